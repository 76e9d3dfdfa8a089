import ArgumentParser
struct ForecastCommand: ParsableCommand {}
struct BenchCommand: ParsableCommand {}
