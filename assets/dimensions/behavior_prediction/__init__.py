"""behavior_prediction: one entry per shown item, labelled by what the user did (log labels)."""
