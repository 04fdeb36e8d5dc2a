// Prints one plain closing line, "tests: N passed, N failed, N skipped", that any CI can read.
import type { Reporter, TestModule } from 'vitest/node';

export default class PlainSummaryReporter implements Reporter {
  private line = '';

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of modules) {
      const tests = [...module.children.allTests()];
      for (const test of tests) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      // A file that failed to load has no tests but is a failure all the same.
      if (module.state() === 'failed' && tests.length === 0) failed++;
    }
    this.line = `tests: ${passed} passed, ${failed} failed, ${skipped} skipped`;
    // The default reporter prints its summary after this hook; ours goes last.
    process.once('beforeExit', () => process.stdout.write(`\n${this.line}\n`));
  }
}
