"""HOP / HOGP evaluation of finished runs and baselines, tidy tables and figures."""
