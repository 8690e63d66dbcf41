import Foundation
import HangarEngine

/// A private sigstore (spec §9) made in the test: a Fulcio-like CA, a CT log key and a Rekor key in a custom
/// trusted_root.json, and signatures made with them exactly as cosign and Rekor make them (bundle v0.3 with DSSE
/// or a message signature, SCT, SET, inclusion proof and signed checkpoint; or a legacy `.sig` simple-signing
/// layer). Built with python3's `cryptography` (the keys never leave the test's directory). Not a stand-in for the
/// verifier: what it produces is checked by hangar's real verification code against a real registry.
public struct SigstoreTestPKI: Sendable {
    public let directory: String
    public var trustedRoot: String { directory + "/trusted_root.json" }

    /// What a signature claims and how it is made.
    public struct Signing: Sendable {
        public enum Format: String, Sendable { case dsse, message, legacy }
        public var identity = "https://github.com/mudler/LocalAI/.github/workflows/backend_merge.yml@refs/heads/master"
        public var issuer = "https://token.actions.githubusercontent.com"
        public var format: Format = .dsse
        /// Rekor's integratedTime relative to now (seconds).
        public var loggedAfter: Int = 0
        /// The leaf's validity relative to now (Fulcio: 10 minutes from 30 s ago).
        public var leafFrom: Int = -30
        public var leafFor: Int = 600
        public init() {}
    }

    /// Makes the CA, CT and Rekor keys and the trusted root in `directory`.
    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(Self.script.utf8).write(to: URL(fileURLWithPath: directory + "/pki.py"))
        try run(["init"])
    }

    /// Whether python3 with `cryptography` is available (the tests say so and skip otherwise).
    public static var isAvailable: Bool {
        (try? runTool("/usr/bin/env", ["python3", "-c", "import cryptography"])) != nil
    }

    /// Signs manifest `digest` (`sha256:<hex>`); returns the bundle JSON, or for `.legacy` a JSON object
    /// `{"payload": b64, "annotations": {...}}` for a cosign simple-signing layer.
    public func sign(digest: String, _ signing: Signing = Signing()) throws -> [UInt8] {
        let out = directory + "/out-\(UUID().uuidString.prefix(8)).json"
        try run(["sign", String(digest.dropFirst("sha256:".count)), signing.format.rawValue, signing.identity, signing.issuer,
                 String(signing.loggedAfter), String(signing.leafFrom), String(signing.leafFor), out])
        return Array(try Data(contentsOf: URL(fileURLWithPath: out)))
    }

    private func run(_ arguments: [String]) throws {
        try runTool("/usr/bin/env", ["python3", directory + "/pki.py", directory] + arguments)
    }

    /// Attaches `bundle` to `subject` (a pushed manifest: digest, media type, size) as cosign v3 does on a registry
    /// without the referrers API: the bundle blob, a referrer manifest by digest, and the `sha256-<hex>` index
    /// listing every referrer attached so far (`existing`). Returns the referrer descriptors now listed.
    @discardableResult
    public static func attach(bundle: [UInt8], to subject: (digest: String, mediaType: String, size: Int64), repository: String,
                              pusher: ImagePusher, existing: [String] = []) throws -> [String] {
        let bundleType = "application/vnd.dev.sigstore.bundle.v0.3+json"
        let blob = try pusher.blob(bytes: bundle, name: "bundle")
        try pusher.upload(blob, repository: repository)
        let empty = try pusher.blob(bytes: Array("{}".utf8), name: "empty")
        try pusher.upload(empty, repository: repository)
        let manifest = #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"\#(bundleType)","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"\#(empty.digest)","size":2},"layers":[{"mediaType":"\#(bundleType)","digest":"\#(blob.digest)","size":\#(blob.size)}],"subject":{"mediaType":"\#(subject.mediaType)","digest":"\#(subject.digest)","size":\#(subject.size)}}"#
        let manifestBlob = try pusher.blob(bytes: Array(manifest.utf8), name: "referrer")
        try pusher.putManifest(manifestBlob, mediaType: OCIMediaType.ociManifest, repository: repository, reference: manifestBlob.digest)
        let entry = #"{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\#(manifestBlob.digest)","size":\#(manifestBlob.size),"artifactType":"\#(bundleType)"}"#
        let entries = existing + [entry]
        let index = #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[\#(entries.joined(separator: ","))]}"#
        let indexBlob = try pusher.blob(bytes: Array(index.utf8), name: "referrers")
        try pusher.putManifest(indexBlob, mediaType: OCIMediaType.ociIndex, repository: repository,
                               reference: "sha256-" + subject.digest.dropFirst("sha256:".count))
        return entries
    }

    /// Pushes a legacy cosign signature (from `sign(... format: .legacy)`) under the tag `sha256-<hex>.sig`.
    public static func attachLegacy(_ signed: [UInt8], to digest: String, repository: String, pusher: ImagePusher) throws {
        let object = try XCTUnwrapLike(try JSONSerialization.jsonObject(with: Data(signed)) as? [String: Any])
        let payload = try XCTUnwrapLike(Data(base64Encoded: try XCTUnwrapLike(object["payload"] as? String)))
        let annotations = try JSONSerialization.data(withJSONObject: try XCTUnwrapLike(object["annotations"]), options: [.sortedKeys])
        let layer = try pusher.blob(bytes: Array(payload), name: "simplesigning")
        try pusher.upload(layer, repository: repository)
        let config = try pusher.blob(bytes: Array("{}".utf8), name: "sigconfig")
        try pusher.upload(config, repository: repository)
        let manifest = #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\#(config.digest)","size":\#(config.size)},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","digest":"\#(layer.digest)","size":\#(layer.size),"annotations":\#(String(decoding: annotations, as: UTF8.self))}]}"#
        let manifestBlob = try pusher.blob(bytes: Array(manifest.utf8), name: "sigmanifest")
        try pusher.putManifest(manifestBlob, mediaType: OCIMediaType.ociManifest, repository: repository,
                               reference: "sha256-" + digest.dropFirst("sha256:".count) + ".sig")
    }

    /// Pushes a legacy cosign signature the way cosign v2 `--registry-referrers-mode=oci-1-1` does (what LocalAI's CI
    /// runs, spec §1.6): the simple-signing manifest by digest with a `subject` and the config media type
    /// `application/vnd.dev.cosign.artifact.sig.v1+json` (no `artifactType`), listed in the `sha256-<hex>` index.
    public static func attachLegacyReferrer(_ signed: [UInt8], to subject: (digest: String, mediaType: String, size: Int64),
                                            repository: String, pusher: ImagePusher) throws {
        let object = try XCTUnwrapLike(try JSONSerialization.jsonObject(with: Data(signed)) as? [String: Any])
        let payload = try XCTUnwrapLike(Data(base64Encoded: try XCTUnwrapLike(object["payload"] as? String)))
        let annotations = try JSONSerialization.data(withJSONObject: try XCTUnwrapLike(object["annotations"]), options: [.sortedKeys])
        let layer = try pusher.blob(bytes: Array(payload), name: "simplesigning")
        try pusher.upload(layer, repository: repository)
        let config = try pusher.blob(bytes: Array("{}".utf8), name: "sigconfig")
        try pusher.upload(config, repository: repository)
        let sigType = "application/vnd.dev.cosign.artifact.sig.v1+json"
        let manifest = #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"\#(sigType)","digest":"\#(config.digest)","size":\#(config.size)},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","digest":"\#(layer.digest)","size":\#(layer.size),"annotations":\#(String(decoding: annotations, as: UTF8.self))}],"subject":{"mediaType":"\#(subject.mediaType)","digest":"\#(subject.digest)","size":\#(subject.size)}}"#
        let manifestBlob = try pusher.blob(bytes: Array(manifest.utf8), name: "sigreferrer")
        try pusher.putManifest(manifestBlob, mediaType: OCIMediaType.ociManifest, repository: repository, reference: manifestBlob.digest)
        let index = #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\#(manifestBlob.digest)","size":\#(manifestBlob.size),"artifactType":"\#(sigType)"}]}"#
        let indexBlob = try pusher.blob(bytes: Array(index.utf8), name: "referrers")
        try pusher.putManifest(indexBlob, mediaType: OCIMediaType.ociIndex, repository: repository,
                               reference: "sha256-" + subject.digest.dropFirst("sha256:".count))
    }

    private static func XCTUnwrapLike<T>(_ value: T?) throws -> T {
        guard let value else { throw FixtureError("the test PKI produced an unexpected legacy signature") }
        return value
    }

    /// The signer, after spec §9 (it is how fixtures/sigstore/selfmade was made).
    static let script = #"""
import base64, datetime, hashlib, json, os, sys, time
from cryptography import x509
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID, ObjectIdentifier
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

d = sys.argv[1]
def path(n): return os.path.join(d, n)
def b64(b): return base64.b64encode(b).decode()
def spki(k): return k.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
def der_len(n):
    if n < 128: return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big"); return bytes([0x80 | len(b)]) + b
def save_key(k, n):
    open(path(n), "wb").write(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
def load_key(n): return serialization.load_pem_private_key(open(path(n), "rb").read(), None)
def sign(k, data): return k.sign(data, ec.ECDSA(hashes.SHA256()))
def utc(t): return datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
def rfc3339(t): return utc(t).strftime("%Y-%m-%dT%H:%M:%SZ")

if sys.argv[2] == "init":
    now = int(time.time())
    root_k, inter_k, rekor_k, ct_k = (ec.generate_private_key(ec.SECP256R1()) for _ in range(4))
    for k, n in ((root_k, "root.key"), (inter_k, "inter.key"), (rekor_k, "rekor.key"), (ct_k, "ct.key")): save_key(k, n)
    def ca(subject, key, issuer, issuer_key, pathlen, eku):
        b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
             .serial_number(x509.random_serial_number()).not_valid_before(utc(now - 86400)).not_valid_after(utc(now + 86400 * 3650))
             .add_extension(x509.BasicConstraints(ca=True, path_length=pathlen), critical=True)
             .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
        if issuer_key is not key:
            b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
        if eku: b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        return b.sign(issuer_key, hashes.SHA256())
    root_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "hangar.test"), x509.NameAttribute(NameOID.COMMON_NAME, "hangar test root")])
    inter_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "hangar.test"), x509.NameAttribute(NameOID.COMMON_NAME, "hangar test fulcio")])
    root = ca(root_name, root_k, root_name, root_k, 1, False)
    inter = ca(inter_name, inter_k, root_name, root_k, 0, True)
    open(path("inter.pem"), "wb").write(inter.public_bytes(serialization.Encoding.PEM))
    start = rfc3339(now - 86400)
    def log(url, k): return {"baseUrl": url, "hashAlgorithm": "SHA2_256",
        "publicKey": {"rawBytes": b64(spki(k)), "keyDetails": "PKIX_ECDSA_P256_SHA_256", "validFor": {"start": start}},
        "logId": {"keyId": b64(hashlib.sha256(spki(k)).digest())}}
    trusted = {"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [log("https://rekor.hangar.test", rekor_k)],
        "certificateAuthorities": [{"subject": {"organization": "hangar.test", "commonName": "hangar test fulcio"},
            "uri": "https://fulcio.hangar.test", "certChain": {"certificates": [
                {"rawBytes": b64(inter.public_bytes(serialization.Encoding.DER))}, {"rawBytes": b64(root.public_bytes(serialization.Encoding.DER))}]},
            "validFor": {"start": start}}],
        "ctlogs": [log("https://ctfe.hangar.test", ct_k)], "timestampAuthorities": []}
    json.dump(trusted, open(path("trusted_root.json"), "w"), indent=2)
    sys.exit(0)

digest_hex, fmt, identity, issuer, logged_after, leaf_from, leaf_for, out = sys.argv[3:11]
now = int(time.time())
inter_k, rekor_k, ct_k = load_key("inter.key"), load_key("rekor.key"), load_key("ct.key")
inter = x509.load_pem_x509_certificate(open(path("inter.pem"), "rb").read())
leaf_k = ec.generate_private_key(ec.SECP256R1())
serial = x509.random_serial_number()
san = x509.RFC822Name(identity) if "@" in identity and "://" not in identity else x509.UniformResourceIdentifier(identity)
def utf8(s):
    b = s.encode(); return b"\x0c" + der_len(len(b)) + b
def leaf_builder():
    return (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(inter.subject).public_key(leaf_k.public_key())
        .serial_number(serial).not_valid_before(utc(now + int(leaf_from))).not_valid_after(utc(now + int(leaf_from) + int(leaf_for)))
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_k.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(inter_k.public_key()), critical=False)
        .add_extension(x509.SubjectAlternativeName([san]), critical=True)
        .add_extension(x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.57264.1.1"), issuer.encode()), critical=False)
        .add_extension(x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.57264.1.8"), utf8(issuer)), critical=False))
pre = leaf_builder().sign(inter_k, hashes.SHA256())
tbs = pre.tbs_certificate_bytes
ts = (now + int(leaf_from) + 1) * 1000
ct_id = hashlib.sha256(spki(ct_k)).digest()
signed = (b"\x00\x00" + ts.to_bytes(8, "big") + b"\x00\x01" + hashlib.sha256(spki(inter_k)).digest()
          + len(tbs).to_bytes(3, "big") + tbs + b"\x00\x00")
sct_sig = sign(ct_k, signed)
sct = b"\x00" + ct_id + ts.to_bytes(8, "big") + b"\x00\x00" + b"\x04\x03" + len(sct_sig).to_bytes(2, "big") + sct_sig
lst = len(sct).to_bytes(2, "big") + sct
lst = len(lst).to_bytes(2, "big") + lst
leaf = (leaf_builder().add_extension(x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2"),
        b"\x04" + der_len(len(lst)) + lst), critical=False).sign(inter_k, hashes.SHA256()))
leaf_der = leaf.public_bytes(serialization.Encoding.DER)
leaf_pem = leaf.public_bytes(serialization.Encoding.PEM)
digest = bytes.fromhex(digest_hex)

if fmt == "dsse":
    statement = json.dumps({"_type": "https://in-toto.io/Statement/v1", "subject": [{"name": "image", "digest": {"sha256": digest_hex}}],
        "predicateType": "https://sigstore.dev/cosign/sign/v1", "predicate": {}}, separators=(",", ":")).encode()
    ptype = "application/vnd.in-toto+json"
    pae = b"DSSEv1 %d %s %d " % (len(ptype), ptype.encode(), len(statement)) + statement
    sig = sign(leaf_k, pae)
    body = {"apiVersion": "0.0.1", "kind": "dsse", "spec": {"envelopeHash": {"algorithm": "sha256", "value": hashlib.sha256(b"x").hexdigest()},
        "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(statement).hexdigest()},
        "signatures": [{"signature": b64(sig), "verifier": b64(leaf_pem)}]}}
    content = {"dsseEnvelope": {"payload": b64(statement), "payloadType": ptype, "signatures": [{"sig": b64(sig), "keyid": ""}]}}
else:
    if fmt == "legacy":
        payload = json.dumps({"critical": {"identity": {"docker-reference": "hangar.test/image"}, "image": {"docker-manifest-digest": "sha256:" + digest_hex},
            "type": "cosign container image signature"}, "optional": None}, separators=(",", ":")).encode()
        signed_digest = hashlib.sha256(payload).digest()
    else:
        signed_digest = digest
    sig = leaf_k.sign(signed_digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    body = {"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {"data": {"hash": {"algorithm": "sha256", "value": signed_digest.hex()}},
        "signature": {"content": b64(sig), "publicKey": {"content": b64(leaf_pem)}}}}
    content = {"messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": b64(signed_digest)}, "signature": b64(sig)}}
canonical = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()

# RFC 6962 tree of 7 leaves, ours at index 4.
def h(b): return hashlib.sha256(b).digest()
leaves = [h(b"\x00" + (b"dummy %d" % i)) for i in range(7)]
leaves[4] = h(b"\x00" + canonical)
def mth(ls):
    if len(ls) == 1: return ls[0]
    k = 1
    while k * 2 < len(ls): k *= 2
    return h(b"\x01" + mth(ls[:k]) + mth(ls[k:]))
def proof(m, ls):
    if len(ls) == 1: return []
    k = 1
    while k * 2 < len(ls): k *= 2
    if m < k: return proof(m, ls[:k]) + [mth(ls[k:])]
    return proof(m - k, ls[k:]) + [mth(ls[:k])]
root_hash = mth(leaves)
path_hashes = proof(4, leaves)
log_index = 1000000 + int.from_bytes(os.urandom(2), "big")
integrated = now + int(logged_after)
rekor_id = hashlib.sha256(spki(rekor_k)).digest()
set_payload = json.dumps({"body": b64(canonical), "integratedTime": integrated, "logID": rekor_id.hex(), "logIndex": log_index},
                         separators=(",", ":"), sort_keys=True).encode()
set_sig = sign(rekor_k, set_payload)
note = "rekor.hangar.test - 4242\n7\n%s\n" % b64(root_hash)
note_sig = sign(rekor_k, note.encode())
envelope = note + "\n" + "\u2014 rekor.hangar.test " + b64(rekor_id[:4] + note_sig) + "\n"

if fmt == "legacy":
    rekor_bundle = {"SignedEntryTimestamp": b64(set_sig), "Payload": {"body": b64(canonical), "integratedTime": integrated,
        "logIndex": log_index, "logID": rekor_id.hex()}}
    result = {"payload": b64(payload), "annotations": {"dev.cosignproject.cosign/signature": b64(sig),
        "dev.sigstore.cosign/certificate": leaf_pem.decode(), "dev.sigstore.cosign/chain": inter.public_bytes(serialization.Encoding.PEM).decode(),
        "dev.sigstore.cosign/bundle": json.dumps(rekor_bundle, separators=(",", ":"))}}
else:
    result = {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": {
        "certificate": {"rawBytes": b64(leaf_der)},
        "tlogEntries": [{"logIndex": str(log_index), "logId": {"keyId": b64(rekor_id)},
            "kindVersion": {"kind": body["kind"], "version": "0.0.1"}, "integratedTime": str(integrated),
            "inclusionPromise": {"signedEntryTimestamp": b64(set_sig)},
            "inclusionProof": {"logIndex": "4", "rootHash": b64(root_hash), "treeSize": "7", "hashes": [b64(x) for x in path_hashes],
                "checkpoint": {"envelope": envelope}},
            "canonicalizedBody": b64(canonical)}]}}
    result.update(content)
json.dump(result, open(out, "w"))
"""#
}
