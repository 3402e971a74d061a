"""What the pipeline produces and consumes, as code: contract tables, entry tables, profiles,
prompt templates and expectation suites. A reviewer reads this package to know *what* is built."""
