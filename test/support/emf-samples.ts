/**
 * Reads the handler's output lines as CloudWatch Logs reads embedded metric
 * format: each directive's metrics, once per dimension set, with the values
 * of the line's members. Tests compare what they find with the metrics the
 * construct's `metric...` methods point at.
 */

/** One metric value as CloudWatch would extract it from a line. */
export interface MetricSample {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly value: number;
}

/** What a metric method points at: namespace, name and dimensions. */
export interface MetricKey {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

/**
 * The samples of one output line; none for a line that is not an EMF document.
 * @throws for an EMF document CloudWatch would reject: a dimension without a
 * string value, or a metric without a numeric one.
 */
export function samplesOfLine(line: string): MetricSample[] {
  let document: Record<string, unknown>;
  try {
    document = JSON.parse(line);
  } catch {
    return [];
  }
  type Directive = { Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> };
  const aws = document?._aws as { CloudWatchMetrics?: Directive[] } | undefined;
  if (!aws?.CloudWatchMetrics) return [];
  const samples: MetricSample[] = [];
  for (const directive of aws.CloudWatchMetrics) {
    for (const metric of directive.Metrics) {
      const value = document[metric.Name];
      if (typeof value !== 'number') throw new Error(`metric ${metric.Name} has no numeric value in ${line}`);
      for (const set of directive.Dimensions) {
        const dimensions: Record<string, string> = {};
        for (const name of set) {
          const dimensionValue = document[name];
          if (typeof dimensionValue !== 'string') throw new Error(`dimension ${name} has no string value in ${line}`);
          dimensions[name] = dimensionValue;
        }
        samples.push({ namespace: directive.Namespace, name: metric.Name, dimensions, value });
      }
    }
  }
  return samples;
}

/** The samples of many lines. */
export function samplesOf(lines: readonly string[]): MetricSample[] {
  return lines.flatMap(samplesOfLine);
}

/** The samples of exactly this metric: same namespace and name, and exactly these dimensions. */
export function samplesFor(samples: readonly MetricSample[], key: MetricKey): MetricSample[] {
  const names = Object.keys(key.dimensions);
  return samples.filter((s) => s.namespace === key.namespace && s.name === key.metricName
    && Object.keys(s.dimensions).length === names.length
    && names.every((n) => s.dimensions[n] === key.dimensions[n]));
}

/** The sum of this metric's values, as CloudWatch's `Sum` statistic would give it. */
export function sumOf(samples: readonly MetricSample[], key: MetricKey): number {
  return samplesFor(samples, key).reduce((sum, s) => sum + s.value, 0);
}
