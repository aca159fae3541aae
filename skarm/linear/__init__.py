"""The linear backend: training objective (hinge + penalties) and full-batch solvers."""
