"""One web UI where people label what the models are unsure about: tweets for the golden set and
entity-match pairs for feedback. Labels live in the warehouse and flow back into the assets."""
