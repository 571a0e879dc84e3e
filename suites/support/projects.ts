/**
 * The projects a `playwright test` command line asks for (`--project demo`,
 * `--project=mock`), or every project when it names none. The config starts
 * only the servers those need, and the DEMO line is printed only when the
 * demo project runs.
 */
export function requestedProjects(argv: readonly string[] = process.argv): string[] | 'all' {
  const named: string[] = [];
  argv.forEach((argument, index) => {
    // Like Playwright's own option, --project takes every value up to the next flag.
    if (argument === '--project') for (let next = index + 1; next < argv.length && !argv[next].startsWith('-'); next++) named.push(argv[next]);
    else if (argument.startsWith('--project=')) named.push(argument.slice('--project='.length));
  });
  return named.length === 0 ? 'all' : named;
}

export const runs = (project: string, argv?: readonly string[]): boolean => {
  const requested = requestedProjects(argv);
  return requested === 'all' || requested.includes(project);
};
