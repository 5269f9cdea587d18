"""The streamhq HQ server: state store, change feed and the HTTP APIs of the seeds."""
