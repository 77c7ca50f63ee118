import { BerthError } from '../../errors/index.js';
import type { ComposeIssue } from '../types.js';

/** Everything wrong with a Compose project, collected rather than stopping at the first problem. */
export class ComposeModelError extends BerthError {
  constructor(readonly issues: ComposeIssue[]) {
    super('invalid_argument', issues.map(formatIssue).join('\n'));
    this.name = 'ComposeModelError';
  }
}

/** Compose prints some messages with their path in front, others (`service "web" refers to ...`) whole. */
function formatIssue(issue: ComposeIssue): string {
  if (!issue.path || /^(service "|project name|dependency cycle)/.test(issue.message)) return issue.message;
  return `${issue.path} ${issue.message}`;
}

/** Collects issues during one load; `fail()` throws them all at once. */
export class Issues {
  readonly list: ComposeIssue[] = [];
  add(path: string, message: string): void {
    this.list.push({ path, message });
  }
  throwIfAny(): void {
    if (this.list.length > 0) throw new ComposeModelError(this.list);
  }
}
