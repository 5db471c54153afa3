"""Tweet stream classification: stream → versioned tables → weak labels → classifier → AI tweets."""
