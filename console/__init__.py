"""The streamhq console: a Textual app that drives an HQ API over HTTP and SSE."""
