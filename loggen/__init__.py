"""Seeded synthetic raw-log drops in the contract of `schemas/logs.py` (`recrm generate-logs`).

Modules, in the order data flows: `config` (knobs), `catalog` (domains, zh/en text), `items`
(catalog per domain), `population` (users and tastes), `funnel` (requests -> impressions ->
events, vectorized per user block), `annotations` (expert labels), `agent_turns` (agent
transcripts), `frames` (ids and text -> contract tables), `writer` (streaming files), `generate`
(chunked orchestration), `cli`.
"""
