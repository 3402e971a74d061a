"""LLM layer: judges (instruction following, factual consistency, graded relevance), agreement and
policy, the agent-response generator, and the `[<dimension>, "judged"]` assets."""
