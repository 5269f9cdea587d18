"""Kafka Connect through the agent (seed 002): its client, service, routes and live feed."""
