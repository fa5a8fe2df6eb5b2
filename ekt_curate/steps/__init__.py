"""Steps over a stream of records. Each counts what it drops and why (StepStats);
dropped records go to a rejects file with the reason, never silently away."""
