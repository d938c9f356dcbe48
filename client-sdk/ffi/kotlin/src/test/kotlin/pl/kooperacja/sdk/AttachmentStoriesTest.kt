package pl.kooperacja.sdk

import java.nio.file.Files
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows

/** A minimal valid one-page PDF, as a scanned consent form would be. */
fun consentPdf(): ByteArray {
    val objects = listOf(
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    )
    val out = StringBuilder("%PDF-1.4\n")
    val offsets = objects.mapIndexed { i, body ->
        val at = out.length
        out.append("${i + 1} 0 obj\n$body\nendobj\n")
        at
    }
    val xref = out.length
    out.append("xref\n0 ${objects.size + 1}\n0000000000 65535 f \n")
    offsets.forEach { out.append(String.format("%010d 00000 n \n", it)) }
    out.append("trailer\n<< /Size ${objects.size + 1} /Root 1 0 R >>\nstartxref\n$xref\n%%EOF\n")
    return out.toString().toByteArray(Charsets.US_ASCII)
}

/** Attachments as a Kotlin app uses them, against a real server. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AttachmentStoriesTest {
    private val server = TestServer()

    @AfterAll
    fun stopServer() = server.close()

    private suspend fun openTablet(login: String, peer: String) =
        Tablet.open(settings(newDataDir(), newKey(), login, peer, server.address(server.enroll(login))))

    @Test
    fun `a worker attaches a signed consent as a PDF and a colleague's tablet downloads it on demand`() = runBlocking {
        val wake = Channel<Unit>(Channel.CONFLATED)
        val anna = Recorder(openTablet("anna", "tablet-anna-att"), wake)
        val case = anna.tablet.createCase("gops-przykladowo", referral(), emptyList())
        anna.until("the case on the server") {
            anna.tablet.documents().firstOrNull { it.id == case && it.onServer && it.pendingChanges == 0uL }
        }
        anna.tablet.assign(case, "jan")
        val pdf = consentPdf()
        val file = Files.createTempFile("zgoda", ".pdf").also { Files.write(it, pdf) }

        val attached = anna.tablet.attachFile(case, file.toString(), AttachmentKind.CONSENT, null, "Zgoda na wymianę informacji")
        assertEquals("application/pdf", attached.mime)
        assertEquals(pdf.size.toULong(), attached.size)
        anna.until("the PDF uploaded") {
            anna.attachmentEvents.firstOrNull { it == AttachmentEvent.Uploaded(case, attached.sha256) }
        }
        assertEquals(AttachmentPlace.Cached, anna.tablet.attachments(case).single().place)

        // Jan's tablet gets the entry with the case; the bytes stay on the server until opened.
        val jan = Recorder(openTablet("jan", "tablet-jan-att"), wake)
        val entry = jan.until("the entry on Jan's tablet") {
            runCatching { jan.tablet.attachments(case) }.getOrNull()?.singleOrNull()
        }
        assertEquals(attached.id, entry.id)
        assertEquals(attached.sha256, entry.sha256)
        assertEquals(AttachmentKind.CONSENT, entry.kind)
        assertEquals("Zgoda na wymianę informacji", entry.caption)
        assertEquals("anna", entry.author)
        assertEquals(AttachmentPlace.OnServer, entry.place)
        val notHere = assertThrows<KooperacjaException.Invalid> {
            runBlocking { jan.tablet.readAttachment(case, entry.sha256) }
        }
        assertEquals("sdk.attachment-not-cached", notHere.reasonCode)

        jan.tablet.downloadAttachment(case, entry.sha256)
        assertArrayEquals(pdf, jan.tablet.readAttachment(case, entry.sha256))
        assertEquals(AttachmentPlace.Cached, jan.tablet.attachments(case).single().place)
        jan.until("the download reported") {
            jan.attachmentEvents.firstOrNull { it == AttachmentEvent.Downloaded(case, entry.sha256) }
        }
        val saved = Files.createTempFile("zgoda-jan", ".pdf")
        assertEquals(pdf.size.toULong(), jan.tablet.saveAttachment(case, entry.sha256, saved.toString()))
        assertArrayEquals(pdf, Files.readAllBytes(saved))

        listOf(anna, jan).forEach { it.close(); it.tablet.shutdown() }
    }
}
