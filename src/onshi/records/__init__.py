"""Records: drug, health-check, clinical and medical-expense data of a person."""
