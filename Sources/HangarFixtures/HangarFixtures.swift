/// Real servers on loopback for tests and benchmarks: a docker-registry process, HTTP servers with faults, proxies.
public enum HangarFixtures {}
