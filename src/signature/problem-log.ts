// Problem codes, each listed once, with the details that explain them: what every verdict of a
// signature, a certification path, a timestamp or a PEC envelope accumulates.
export interface ProblemLog<P extends string> {
  readonly problems: P[];
  readonly details: string[];
  /** Record a problem (its code once) and why. */
  add(problem: P, detail: string): void;
  /** Record what another verdict found. */
  merge(problems: readonly P[], details: readonly string[]): void;
}

export function problemLog<P extends string>(): ProblemLog<P> {
  const problems: P[] = [];
  const details: string[] = [];
  return {
    problems,
    details,
    add(problem, detail) {
      if (!problems.includes(problem)) problems.push(problem);
      details.push(detail);
    },
    merge(codes, reasons) {
      for (const c of codes) if (!problems.includes(c)) problems.push(c);
      details.push(...reasons);
    },
  };
}
