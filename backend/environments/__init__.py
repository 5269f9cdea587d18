"""Environments (seed 001): the clusters HQ manages, their Kafka connections and agent keys."""
