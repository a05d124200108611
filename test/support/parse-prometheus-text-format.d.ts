/** The package ships no types: the shape its README documents, as far as the tests use it. */
declare module 'parse-prometheus-text-format' {
  export interface MetricFamily {
    name: string;
    help: string;
    type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
    metrics: unknown[];
  }
  export default function parsePrometheusTextFormat(text: string): MetricFamily[];
}
