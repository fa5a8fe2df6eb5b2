"""Statistics over verified samples: pass@k, coverage, distributions, and their views."""
