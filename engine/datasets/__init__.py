"""Sample data sets made locally (nothing is downloaded): spoken digits from espeak-ng."""
