"""How well the trained assistant knows when it does not know: held-out evaluation, the quality
report behind `make quality`, and the threshold tuning behind `make tune`."""
