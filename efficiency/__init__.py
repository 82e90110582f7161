"""Efficiency Lab: measured efficiency trade-offs of NLP fine-tuning. The library never imports streamlit."""

__version__ = "0.1.0"
