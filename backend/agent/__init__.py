"""The built-in agent: watches each environment's Kafka cluster, Kafka Connect clusters and
Redpanda Connect instances from inside HQ, and reports what it sees as the environment's
status (seed 001 `status.agent.*`)."""
