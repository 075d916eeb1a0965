import { SandboxError, type SandboxDriver, type SandboxProcess } from '@loom/engine';

/**
 * The driver of a machine with no sandbox: it refuses, with what to install. Untrusted
 * code is never run in the server's process instead.
 */
export class NoSandboxDriver implements SandboxDriver {
  readonly name = 'none';
  readonly isolation = 'none' as const;
  readonly description: string;

  constructor(private readonly why = 'no sandbox is available on this machine') {
    this.description = `no sandbox: code skills and stdio tools are refused (${why})`;
  }

  async spawn(): Promise<SandboxProcess> {
    throw new SandboxError(
      `untrusted code cannot run: ${this.why}. Install gVisor (Debian package runsc) or bubblewrap and run the server as root, or set LOOM_SANDBOX=gvisor|bwrap`,
      'sandbox_unavailable',
    );
  }
}
