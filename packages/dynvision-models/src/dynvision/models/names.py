"""Names the models accept, kept free of torch so that configurations can be checked without loading it."""

RECURRENCE_TYPES = (
    "none",
    "self",
    "full",
    "depthwise",
    "pointwise",
    "depthpointwise",
    "pointdepthwise",
    "local",
    "localdepthwise",
)
RECURRENCE_TARGETS = ("input", "middle", "output")
INTEGRATORS = ("euler", "rk4")
