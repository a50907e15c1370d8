"""Pod Pattern Advisor: Django project package; the analysis core lives in ``advisor.core``."""
