// HangarFixtures: what tests and benchmarks share. Real servers on loopback (a docker-registry process, HTTP
// servers with faults, proxies), a runner of the built `hangar`, and `LocalAISite`, the one builder of LocalAI
// installations in temp dirs, with the file, temp-dir and polling helpers of `TestFiles.swift`.
// (No namespace enum: it would hide the module name, and `HangarFixtures.write(path:…)` must name the helper.)
