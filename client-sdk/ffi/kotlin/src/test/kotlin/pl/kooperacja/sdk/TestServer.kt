package pl.kooperacja.sdk

import java.io.BufferedReader
import java.io.BufferedWriter
import java.util.concurrent.TimeUnit

/** A device enrolled on the test server. */
data class Device(val id: String, val token: String)

/**
 * The workspace's test server (`cargo run -p client-sdk-ffi --example ffi-test-server`) as a
 * process: a real Kooperacja server on 127.0.0.1 with a development certificate, which enrols and
 * revokes devices when told on stdin and answers with one JSON line each.
 */
class TestServer : AutoCloseable {
    private val process: Process
    private val output: BufferedReader
    private val input: BufferedWriter
    val url: String
    val fingerprint: String

    init {
        val binary = System.getProperty("kooperacja.test.server")
            ?: error("the system property kooperacja.test.server names the test server (run-tests.sh sets it)")
        process = ProcessBuilder(binary).redirectError(ProcessBuilder.Redirect.INHERIT).start()
        output = process.inputStream.bufferedReader()
        input = process.outputStream.bufferedWriter()
        val started = answer()
        url = field(started, "url")
        fingerprint = field(started, "fingerprint")
    }

    private fun answer(): String =
        output.readLine() ?: error("the test server ended (exit ${process.waitFor()})")

    private fun tell(command: String): String {
        input.write(command)
        input.newLine()
        input.flush()
        return answer()
    }

    /** Enrols a new device for the social worker [login]. */
    fun enroll(login: String): Device {
        val answer = tell("enroll $login")
        return Device(field(answer, "device"), field(answer, "token"))
    }

    /** Revokes [device] as an administrator would; returns once its connections are closed. */
    fun revoke(device: Device) {
        val answer = tell("revoke ${device.id}")
        check(field(answer, "revoked") == device.id) { "revocation answered $answer" }
    }

    /** How a tablet of [device] reaches this server: wss with the certificate pinned. */
    fun address(device: Device) = ServerSettings(
        url = url,
        token = device.token,
        trust = TrustSettings.Pinned(sha256Fingerprint = fingerprint),
    )

    override fun close() {
        input.close()
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly()
        }
    }

    private companion object {
        // The server's answers are flat JSON objects of strings.
        fun field(json: String, name: String): String =
            Regex("\"$name\":\"([^\"]*)\"").find(json)?.groupValues?.get(1)
                ?: error("no \"$name\" in $json")
    }
}
