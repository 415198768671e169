"""The PayLater reference assistant: launcher, settings and custom NLU components."""
