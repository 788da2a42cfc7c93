/** Example body of `GET /metrics` (Prometheus text exposition format 0.0.4; abridged). */
export const PROMETHEUS_METRICS_EXAMPLE =
  '# HELP llm_router_attempts_total Provider attempts by outcome (success|failure)\n' +
  '# TYPE llm_router_attempts_total counter\n' +
  'llm_router_attempts_total{provider="ollama-local",outcome="success"} 40\n' +
  '# HELP llm_router_circuit_state Circuit breaker state: 0 closed, 1 half_open, 2 open\n' +
  '# TYPE llm_router_circuit_state gauge\n' +
  'llm_router_circuit_state{provider="ollama-local"} 0\n';
