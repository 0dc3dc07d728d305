// SPDX-License-Identifier: MIT
//
// examples/deploy/: the DaemonSet, the Dockerfile and the systemd unit say
// what docs/agent.md says (capabilities, hostPID, read-only mounts), and
// agree with each other and with the command (the package's version, the
// stop timeouts, the metrics port the readiness probe asks). Neither the
// DaemonSet nor the image can be run where the tests run (no container
// runtime, no cluster): this is what can be checked of them here. The
// unit is also linted by systemd (test/integration/systemd-unit.test.ts)
// and acted out against the kernel (privileges.kernel.test.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../helpers/process.js';
import { capabilityNames, execStart, shippedUnit } from '../helpers/systemd-unit.js';
import { parseYaml, parseYamlDocuments, type Yaml } from '../helpers/yaml.js';

const deploy = join(root, 'examples', 'deploy');
const read = (file: string) => readFileSync(file, 'utf8');
const agentDoc = read(join(root, 'docs', 'agent.md'));
const { version } = JSON.parse(read(join(root, 'package.json'))) as { version: string };

type Obj = { [key: string]: Yaml };
/** VALUE's member at PATH (keys and indexes), checked to be there. */
function at(value: Yaml, ...path: (string | number)[]): Yaml {
  let v: Yaml = value;
  for (const key of path) {
    if (v === null || typeof v !== 'object' || !(key in v)) throw new Error(`no ${path.join('.')} (stopped at ${key})`);
    v = (v as Obj)[key as string]!;
  }
  return v;
}

/** The ```yaml block of docs/agent.md's section HEADING. */
function docYaml(heading: string): Yaml {
  const section = agentDoc.slice(agentDoc.indexOf(`\n${heading}\n`));
  const block = /\n```yaml\n([\s\S]*?)\n```\n/.exec(section);
  if (block === null) throw new Error(`no yaml block under ${heading} in docs/agent.md`);
  return parseYaml(block[1]!);
}

/** The seconds of --shutdown-timeout in ARGS (the command's default, 5, if absent). */
function shutdownTimeout(args: string[]): number {
  const i = args.indexOf('--shutdown-timeout');
  return i < 0 ? 5 : Number(args[i + 1]);
}

describe('the YAML subset reader the deploy checks use', () => {
  it('reads block and flow collections, quoting and comments, and refuses what it does not know', () => {
    const text = [
      'a: 1 # one',
      'b:',
      '  - x',
      '  - { k: "v # not a comment", n: [1, two, \'3\'] }',
      '  - name: m',
      '    on: true',
      'c:',
      '- y',
      'd: "0.0.0.0:9464"',
    ].join('\n');
    expect(parseYaml(text)).toEqual({ a: 1, b: ['x', { k: 'v # not a comment', n: [1, 'two', '3'] }, { name: 'm', on: true }], c: ['y'], d: '0.0.0.0:9464' });
    expect(parseYamlDocuments('a: 1\n---\nb: 2\n')).toEqual([{ a: 1 }, { b: 2 }]);
    expect(() => parseYaml('a: &anchor 1\n')).toThrow(/line 1: not in the subset/);
    expect(() => parseYaml('a: 1\na: 2\n')).toThrow(/a given twice/);
    expect(() => parseYaml('a:\n  b: 1\n c: 2\n')).toThrow(/line 3/);
  });
});

describe('examples/deploy', () => {
  const documents = parseYamlDocuments(read(join(deploy, 'daemonset.yaml')));
  const daemonSet = documents.find((d) => at(d, 'kind') === 'DaemonSet')!;
  const pod = at(daemonSet, 'spec', 'template', 'spec');
  const container = at(pod, 'containers', 0);
  const args = at(container, 'args') as string[];
  const documented = docYaml('### Settings');
  const documentedContainer = at(documented, 'spec', 'containers', 0);
  const dockerfile = read(join(deploy, 'Dockerfile'));
  const unit = shippedUnit();

  it("daemonset.yaml: docs/agent.md's capabilities, hostPID and read-only mounts, and nothing more", () => {
    expect(documents.map((d) => at(d, 'kind'))).toEqual(['Namespace', 'DaemonSet']);
    expect(at(daemonSet, 'metadata', 'namespace')).toBe(at(documents[0]!, 'metadata', 'name'));
    expect(at(pod, 'hostPID')).toBe(at(documented, 'spec', 'hostPID'));
    expect(at(pod, 'hostPID')).toBe(true);
    expect(at(container, 'securityContext', 'capabilities', 'add')).toEqual(at(documentedContainer, 'securityContext', 'capabilities', 'add'));
    expect(at(container, 'securityContext', 'capabilities', 'add')).toEqual(['BPF', 'PERFMON']);
    expect(at(container, 'securityContext', 'capabilities', 'drop')).toEqual(['ALL']);
    expect(at(container, 'securityContext')).toMatchObject({ runAsUser: 0, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    expect(at(container, 'securityContext')).not.toHaveProperty('privileged');
    expect(at(container, 'volumeMounts')).toEqual(at(documentedContainer, 'volumeMounts'));
    expect((at(container, 'volumeMounts') as Obj[]).every((m) => m.readOnly === true)).toBe(true);
    expect(at(pod, 'volumes')).toEqual(at(documented, 'spec', 'volumes'));
    expect(at(pod, 'volumes')).toEqual([
      { name: 'btf', hostPath: { path: '/sys/kernel/btf' } },
      { name: 'cgroup', hostPath: { path: '/sys/fs/cgroup' } },
    ]);
    expect(pod).not.toHaveProperty('hostNetwork');
  });

  it('daemonset.yaml: --json, the readiness probe on --metrics 0.0.0.0:9464 /healthz, room to flush before SIGKILL, resources', () => {
    expect(args[0]).toBe('--json');
    expect(args[args.indexOf('--metrics') + 1]).toBe('0.0.0.0:9464');
    expect(at(container, 'readinessProbe', 'httpGet')).toEqual({ path: '/healthz', port: 9464 });
    expect(at(container, 'ports')).toEqual([{ name: 'metrics', containerPort: 9464 }]);
    // The kubelet's SIGKILL comes after the flush's deadline, with a margin.
    expect(at(pod, 'terminationGracePeriodSeconds') as number).toBeGreaterThanOrEqual(shutdownTimeout(args) + 2);
    expect(at(container, 'resources', 'requests')).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(at(container, 'resources', 'limits')).toEqual({ memory: expect.stringMatching(/^\d+Mi$/) });
    expect(at(container, 'image')).toMatch(new RegExp(`/exec-tracer:${version.replaceAll('.', '\\.')}$`));
  });

  it('Dockerfile: the npm package (this version) on a glibc Node >= 20, no copy of the repository; exec-tracer its entry point', () => {
    const instructions = dockerfile
      .replace(/\\\n/g, ' ')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'));
    const verbs = instructions.map((l) => l.split(' ')[0]);
    expect(verbs).not.toContain('COPY');
    expect(verbs).not.toContain('ADD');
    const from = /^FROM node:(\d+)-(bookworm|trixie|bullseye)(-slim)?$/.exec(instructions.find((l) => l.startsWith('FROM '))!);
    expect(from, 'a Debian-based (glibc) Node image').not.toBeNull();
    expect(Number(from![1])).toBeGreaterThanOrEqual(20);
    expect(instructions).toContain(`ARG EXEC_TRACER_VERSION=${version}`);
    expect(instructions.find((l) => l.startsWith('RUN '))).toMatch(/^RUN npm install --global [^&]*"exec-tracer@\$\{EXEC_TRACER_VERSION\}"/);
    expect(instructions).toContain('ENTRYPOINT ["exec-tracer"]');
    expect(instructions).toContain('STOPSIGNAL SIGTERM');
    expect(instructions).not.toContainEqual(expect.stringMatching(/^USER /));
  });

  it('exec-tracer.service: the same two capabilities, and systemd waits past the flush before SIGKILL', () => {
    const documentedCaps = (at(documentedContainer, 'securityContext', 'capabilities', 'add') as string[]).map((c) => c.toLowerCase());
    expect(capabilityNames(unit.get('Service', 'AmbientCapabilities'))).toEqual(documentedCaps);
    expect(capabilityNames(unit.get('Service', 'CapabilityBoundingSet'))).toEqual(documentedCaps);
    const { program, args: unitArgs } = execStart(unit);
    // Where `npm install --global` puts the bin with Node's official builds, and the Dockerfile's.
    expect(program).toBe('/usr/local/bin/exec-tracer');
    expect(unit.get('Service', 'KillSignal')).toBe('SIGTERM');
    expect(Number(unit.get('Service', 'TimeoutStopSec'))).toBeGreaterThanOrEqual(shutdownTimeout(unitArgs) + 2);
    expect(unit.get('Service', 'LimitMEMLOCK')).toBe('infinity');
  });

  it("docs/agent.md's systemd section says what each of the unit's [Service] lines does", () => {
    const section = agentDoc.slice(agentDoc.indexOf('\n## systemd\n'), agentDoc.indexOf('\n## Kubernetes\n'));
    const rows = section.split('\n').filter((l) => l.startsWith('| `'));
    for (const key of unit.keys('Service')) expect(rows.some((row) => row.split(' | ')[0]!.includes(`\`${key}=`)), key).toBe(true);
    // And the ExecStart row is the unit's line.
    expect(section).toContain(`| \`ExecStart=${unit.get('Service', 'ExecStart')}\` |`);
  });

  it('docs/agent.md points at each file and says they were not run here', () => {
    for (const file of ['examples/deploy/exec-tracer.service', 'examples/deploy/daemonset.yaml', 'examples/deploy/Dockerfile'])
      expect(agentDoc).toContain(file);
    expect(agentDoc).toMatch(/## Kubernetes[\s\S]*Neither file has been built or applied by the project: where its tests run\nthere is no container runtime/);
  });
});
