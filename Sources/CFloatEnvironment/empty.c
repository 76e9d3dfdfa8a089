// Header-only: see include/CFloatEnvironment.h.
