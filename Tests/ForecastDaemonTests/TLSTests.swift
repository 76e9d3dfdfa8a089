import AQCastTestSupport
import Foundation
import Testing

/// Runs a shell script to its end; its output if it failed.
func shell(_ script: String) throws {
    let p = try ChildProcess("/bin/sh", ["-ec", script])
    let status = p.wait(seconds: 60)
    guard status == 0 else { throw ShellError(script: script, output: p.output) }
}

struct ShellError: Error, CustomStringConvertible {
    var script: String
    var output: String
    var description: String { "script failed:\n\(script)\n\(output)" }
}

/// A certificate authority and server certificates made with openssl for one test run: `ca.pem`
/// signs `server.pem` (for localhost and 127.0.0.1) and `wrongname.pem` (for another name);
/// `other-ca.pem` is a second authority that signed nothing the broker presents.
final class TestPKI {
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "aqcast-pki-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try shell(
            """
            cd \(directory)
            ca() { openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$2" -keyout $1.key -out $1.pem 2>/dev/null; }
            server() {
                openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout $1.key -out $1.csr 2>/dev/null
                printf 'subjectAltName=%s\\n' "$3" > $1.ext
                openssl x509 -req -in $1.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile $1.ext -out $1.pem 2>/dev/null
            }
            ca ca "aqcast test CA"
            ca other-ca "some other CA"
            server server localhost "DNS:localhost,IP:127.0.0.1"
            server wrongname broker.example.org "DNS:broker.example.org"
            mosquitto_passwd -c -b passwd sensor-net right-password
            printf 'right-password\\n' > right-password
            printf 'wrong-password\\n' > wrong-password
            chmod 600 passwd
            """)
    }

    /// A broker on a TLS listener presenting `certificate` (a name above), password file on.
    func broker(certificate: String) throws -> Broker {
        try Broker(
            listener: """
                cafile \(directory)/ca.pem
                certfile \(directory)/\(certificate).pem
                keyfile \(directory)/\(certificate).key
                password_file \(directory)/passwd
                """, anonymous: false)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }
}

/// The daemon against TLS listeners with a password file: the right CA and credential connect;
/// an untrusted certificate, a certificate for another name and a wrong password are refused
/// with a journal line that says why, and a refusal is not retried in a tight loop.
@Suite(.serialized) struct TLSAndAuthenticationTests {
    let pki: TestPKI

    init() throws {
        #expect(FakeJournal.shared != nil, "the test journal socket could not be bound")
        pki = try TestPKI()
    }

    /// Starts the daemon with a configuration file for `broker` at `localhost`.
    func daemon(
        _ broker: Broker, ca: String, password: String?, credentials: String? = nil,
        notify: NotifySocket
    ) throws -> ChildProcess {
        let config = pki.directory + "/aqcast-\(UUID().uuidString.prefix(6)).toml"
        try """
        [broker]
        host = "localhost"
        port = \(broker.port)
        client_id = "aqcast-tls-\(broker.port)"
        username = "sensor-net"
        password_file = "\(password.map { pki.directory + "/" + $0 } ?? "")"
        tls_ca_file = "\(pki.directory)/\(ca).pem"

        [state]
        directory = "\(temporaryDirectory())"
        """.write(toFile: config, atomically: true, encoding: .utf8)
        var environment = ["NOTIFY_SOCKET": notify.path]
        if let credentials { environment["CREDENTIALS_DIRECTORY"] = credentials }
        return try ChildProcess(
            Shipped.binary, ["run", "--config", config, "--model", Shipped.modelPath], environment: environment)
    }

    func entries(_ broker: Broker, _ message: String) -> [[String: String]] {
        (FakeJournal.shared?.all() ?? []).filter {
            $0["BROKER"] == "localhost:\(broker.port)" && ($0["MESSAGE"] ?? "").hasPrefix(message)
        }
    }

    /// The first "broker connection failed" journal entry for `broker`.
    func firstFailure(_ broker: Broker) -> [String: String]? {
        FakeJournal.shared?.wait(seconds: 10) {
            $0["BROKER"] == "localhost:\(broker.port)" && ($0["MESSAGE"] ?? "").hasPrefix("broker connection failed")
        }
    }

    /// SIGTERM, and the daemon exits 0.
    func stop(_ d: ChildProcess) {
        d.signal(SIGTERM)
        #expect(d.wait(seconds: 10) == 0, "a wait between attempts must not hold up the stop")
    }

    @Test func theRightCAAndPasswordConnect() throws {
        let broker = try pki.broker(certificate: "server")
        let notify = try NotifySocket()
        let d = try daemon(broker, ca: "ca", password: "right-password", notify: notify)
        let messages = notify.collect(seconds: 10) { $0.contains("STATUS=connected to") }
        #expect(
            messages.last?.contains("STATUS=connected to localhost:\(broker.port)") == true, "\(messages) \(d.output)")
        stop(d)
    }

    @Test func thePasswordComesFromTheSystemdCredentialWhenNoFileIsSet() throws {
        let broker = try pki.broker(certificate: "server")
        let credentials = pki.directory + "/credentials"
        try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
        try "right-password\n".write(toFile: credentials + "/mqtt-password", atomically: true, encoding: .utf8)
        let notify = try NotifySocket()
        let d = try daemon(broker, ca: "ca", password: nil, credentials: credentials, notify: notify)
        let messages = notify.collect(seconds: 10) { $0.contains("STATUS=connected to") }
        #expect(messages.last?.contains("STATUS=connected to") == true, "\(messages) \(d.output)")
        stop(d)
    }

    /// An untrusted certificate, and one for another host name (libmosquitto says so first).
    @Test(arguments: [
        ("server", "other-ca", "certificate verify failed (the broker's certificate is not signed by tls_ca_file"),
        ("wrongname", "ca", "host name verification failed. (the broker's certificate is not issued for localhost"),
    ])
    func anUntrustedOrMisnamedCertificateIsRefusedAndSaysWhy(certificate: String, ca: String, says: String) throws {
        let broker = try pki.broker(certificate: certificate)
        let notify = try NotifySocket()
        let d = try daemon(broker, ca: ca, password: "right-password", notify: notify)
        let failure = firstFailure(broker)
        #expect(failure?["MESSAGE"]?.contains(says) == true, "\(failure ?? [:]) \(d.output)")
        #expect(failure?["PRIORITY"] == "3")
        // Ready all the same (the daemon runs and retries), never connected, and the status says why.
        let messages = notify.collect(seconds: 2) { $0.contains("STATUS=connected to") }
        #expect(
            !messages.contains { $0.contains("STATUS=connected to") },
            "connected without a trusted certificate: \(messages)")
        #expect(messages.contains { $0.hasPrefix("READY=1") }, "\(messages)")
        #expect(messages.contains { $0.contains("STATUS=cannot connect to ") && $0.contains(says) }, "\(messages)")
        #expect(entries(broker, "connected to broker").isEmpty)
        #expect(d.wait(seconds: 0.1) == nil, "the daemon died: \(d.output)")
        stop(d)
    }

    /// libmosquitto's own loop gives up for good after a TLS error; the daemon must not.
    @Test func aTLSFailureIsRetriedUntilTheBrokerPresentsTheRightCertificate() throws {
        let broker = try pki.broker(certificate: "wrongname")
        let notify = try NotifySocket()
        let d = try daemon(broker, ca: "ca", password: "right-password", notify: notify)
        #expect(firstFailure(broker) != nil)
        let conf = broker.directory + "/mosquitto.conf"
        try String(contentsOfFile: conf, encoding: .utf8).replacingOccurrences(of: "/wrongname.", with: "/server.")
            .write(toFile: conf, atomically: true, encoding: .utf8)
        try broker.restart(downFor: 0)
        let messages = notify.collect(seconds: 15) { $0.contains("STATUS=connected to") }
        #expect(messages.last?.contains("STATUS=connected to") == true, "never connected after the fix: \(messages)")
        stop(d)
    }

    @Test func aWrongPasswordIsRefusedWithoutATightReconnectLoop() throws {
        let broker = try pki.broker(certificate: "server")
        let notify = try NotifySocket()
        let d = try daemon(broker, ca: "ca", password: "wrong-password", notify: notify)
        let status = notify.collect(seconds: 10) { $0.contains("refused the connection") }
        #expect(
            status.last?.contains("STATUS=broker localhost:\(broker.port) refused the connection: Not authorized")
                == true,
            "\(status) \(d.output)")
        // libmosquitto alone would knock once a second; the daemon waits 5 seconds after the
        // first refusal and 10 after the second. Measured from when the first refusal's entry
        // was seen to when the second's was: a tight loop would bring it within about a second.
        let refused = "broker refused the connection"
        let journal = FakeJournal.shared
        #expect(journal?.wait(seconds: 5) { _ in !entries(broker, refused).isEmpty } != nil)
        let firstSeen = Date()
        #expect(journal?.wait(seconds: 12) { _ in entries(broker, refused).count >= 2 } != nil)
        let gap = Date().timeIntervalSince(firstSeen)
        let refusals = entries(broker, refused)
        #expect(gap > 4.5, "the second refusal came \(gap) s after the first: \(refusals)")
        #expect(refusals.count == 2, "\(refusals)")
        #expect(refusals.first?["MESSAGE"] == "broker refused the connection: Not authorized; retrying in 5 s")
        #expect(
            refusals.dropFirst().first?["MESSAGE"] == "broker refused the connection: Not authorized; retrying in 10 s")
        #expect(refusals.first?["PRIORITY"] == "3")
        #expect(entries(broker, "the broker does not speak MQTT v5").isEmpty, "a refusal is not a protocol error")
        #expect(d.wait(seconds: 0.1) == nil, "the daemon died: \(d.output)")
        stop(d)
    }
}
