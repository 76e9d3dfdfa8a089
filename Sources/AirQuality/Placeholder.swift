import DeepRNN
