// The host's architecture in Go's (and so OCI's and docker's) words.
const GO_ARCH: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', s390x: 's390x', ppc64: 'ppc64le', riscv64: 'riscv64' };

export const goArch = (arch: string = process.arch): string => GO_ARCH[arch] ?? arch;
