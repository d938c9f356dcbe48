package pl.kooperacja.sdk

import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows

/**
 * The tablet library as a Kotlin app uses it: the native library loaded through JNA, syncing
 * with a real server over TLS with its certificate pinned.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TabletStoriesTest {
    private val server = TestServer()

    @AfterAll
    fun stopServer() = server.close()

    private suspend fun openTablet(login: String, peer: String, device: Device = server.enroll(login)) =
        Tablet.open(settings(newDataDir(), newKey(), login, peer, server.address(device)))

    @Test
    fun `two workers edit a case offline and their tablets converge after reconnecting`() = runBlocking {
        val wake = Channel<Unit>(Channel.CONFLATED)
        val anna = Recorder(openTablet("anna", "tablet-anna-1"), wake)
        val case = anna.tablet.createCase("gops-przykladowo", referral(), emptyList())
        anna.tablet.setDiagnosis(case, DiagnosisSector.HOUSING, "Dwa pokoje.")
        // The server shares only what it holds.
        anna.until("the case on the server") {
            anna.tablet.documents().firstOrNull { it.id == case && it.onServer && it.pendingChanges == 0uL }
        }
        anna.tablet.assign(case, "jan")
        // Jan's tablet has never seen the case: the server's list brings it.
        val jan = Recorder(openTablet("jan", "tablet-jan-1"), wake)
        converged(listOf(anna, jan), case)

        for (r in listOf(anna, jan)) {
            r.tablet.setOnline(false)
            r.status("offline") { it.state == SyncState.Offline }
        }
        val annaNotes = anna.tablet.editText(case, TextField.Diagnosis(DiagnosisSector.HOUSING))
        annaNotes.typeText(" Wilgoć w kuchni.")
        annaNotes.finish()
        val janNotes = jan.tablet.editText(case, TextField.Diagnosis(DiagnosisSector.HOUSING))
        janNotes.moveCursor(0uL)
        janNotes.typeText("Mieszkanie: ")
        assertEquals("Mieszkanie: Dwa pokoje.", janNotes.view().text)
        janNotes.finish()
        jan.tablet.appendMonitoringNote(case, ContactMode.HOME_VISIT, "Rodzina w domu, dzieci w szkole.")
        assertTrue(jan.tablet.status().pendingChanges >= 2uL)

        for (r in listOf(anna, jan)) r.tablet.setOnline(true)
        val merged = converged(listOf(anna, jan), case)
        assertEquals(
            "Mieszkanie: Dwa pokoje. Wilgoć w kuchni.",
            merged.diagnosis.single { it.sector == DiagnosisSector.HOUSING }.text,
        )
        assertEquals(listOf("jan"), merged.monitoring.map { it.author })
        val authors = anna.tablet.history(case).mapNotNull { it.author }.toSet()
        assertEquals(setOf("anna", "jan"), authors)

        listOf(anna, jan).forEach { it.close(); it.tablet.shutdown() }
    }

    @Test
    fun `a status set differently on two tablets is reported as a conflict and resolved`() = runBlocking {
        val wake = Channel<Unit>(Channel.CONFLATED)
        val anna = Recorder(openTablet("anna", "tablet-anna-2"), wake)
        val case = anna.tablet.createCase("gops-przykladowo", referral(), emptyList())
        anna.tablet.upsertGoal(case, "g1", goalPlan())
        // The server shares only what it holds.
        anna.until("the case on the server") {
            anna.tablet.documents().firstOrNull { it.id == case && it.onServer && it.pendingChanges == 0uL }
        }
        anna.tablet.assign(case, "jan")
        val jan = Recorder(openTablet("jan", "tablet-jan-2"), wake)
        converged(listOf(anna, jan), case)

        for (r in listOf(anna, jan)) {
            r.tablet.setOnline(false)
            r.status("offline") { it.state == SyncState.Offline }
        }
        anna.tablet.setGoalStatus(case, "g1", GoalStatus.ACHIEVED)
        jan.tablet.setGoalStatus(case, "g1", GoalStatus.DROPPED)
        for (r in listOf(anna, jan)) r.tablet.setOnline(true)
        val merged = converged(listOf(anna, jan), case)
        assertEquals(listOf("goals/g1/status"), merged.conflicts)

        val conflicts = anna.tablet.conflicts(case)
        assertEquals(1, conflicts.size, "$conflicts")
        assertEquals("goals/g1/status", conflicts[0].path)
        val values = conflicts[0].values.map { Triple(it.value, it.by, it.thisDevice) }.sortedBy { it.first }
        assertEquals(listOf(Triple("achieved", "anna", true), Triple("dropped", "jan", false)), values)
        assertTrue(conflicts[0].values.all { it.at != null })
        assertEquals(1, jan.tablet.conflicts(case).size)

        anna.tablet.resolve(case, "goals/g1/status", "dropped")
        val settled = converged(listOf(anna, jan), case)
        assertEquals(emptyList<String>(), settled.conflicts)
        assertEquals(GoalStatus.DROPPED, settled.goals.single().status)
        assertEquals(emptyList<FieldConflict>(), jan.tablet.conflicts(case))

        listOf(anna, jan).forEach { it.close(); it.tablet.shutdown() }
    }

    @Test
    fun `the status stream follows a tablet from offline to up to date`() = runBlocking {
        val tablet = Tablet.open(
            settings(newDataDir(), newKey(), "anna", "tablet-anna-3", server.address(server.enroll("anna")), online = false),
        )
        val case = tablet.createCase("gops-przykladowo", referral(), emptyList())
        val offline = withTimeout(WAIT_MS) { tablet.statusFlow().first { it.pendingChanges > 0uL } }
        assertEquals(SyncState.Offline, offline.state)
        assertEquals("Brak połączenia; niewysłane zmiany: ${offline.pendingChanges}", offline.labelPl)

        val seen = mutableListOf<SyncStatus>()
        withTimeout(WAIT_MS) {
            tablet.statusFlow().first { status ->
                seen.add(status)
                if (status.state == SyncState.Offline && seen.size == 1) tablet.setOnline(true)
                status.state == SyncState.UpToDate
            }
        }
        val last = seen.last()
        assertEquals(0uL, last.pendingChanges)
        assertTrue(last.lastSync != null)
        assertTrue(last.labelPl.startsWith("Wszystko zsynchronizowane"), last.labelPl)
        assertEquals(SyncState.Offline, seen.first().state)
        assertTrue(seen.size >= 2, "$seen")
        assertTrue(tablet.documents().single { it.id == case }.onServer)
        tablet.shutdown()
    }

    @Test
    fun `a wrong store key fails with its typed error and changes nothing`() = runBlocking {
        val dir = newDataDir()
        val key = newKey()
        val first = Tablet.open(settings(dir, key, "anna", "tablet-anna-4", null))
        val case = first.createCase("gops-przykladowo", referral(), emptyList())
        first.shutdown()

        val wrong = assertThrows<KooperacjaException.WrongKey> {
            runBlocking { Tablet.open(settings(dir, newKey(), "anna", "tablet-anna-4", null)) }
        }
        assertEquals("sdk.wrong-key", wrong.reasonCode)
        assertEquals("Ten klucz nie otwiera danych na urządzeniu; niczego nie zmieniono.", wrong.messagePl)

        val again = Tablet.open(settings(dir, key, "anna", "tablet-anna-4", null))
        assertEquals(listOf(case), again.documents().map { it.id })
        assertEquals(Stage.REFERRAL, again.case(case).stage)
        again.shutdown()
    }

    @Test
    fun `an edit the model refuses fails with the rule's code and Polish text`() = runBlocking {
        val tablet = Tablet.open(settings(newDataDir(), newKey(), "anna", "tablet-anna-5", null))
        val case = tablet.createCase("gops-przykladowo", referral(), emptyList())
        val refused = assertThrows<KooperacjaException.Rule> {
            runBlocking { tablet.moveToStage(case, Stage.CLOSED) }
        }
        assertEquals("stage.move-not-allowed", refused.reasonCode)
        assertTrue(refused.messagePl.startsWith("Sprawy na etapie „zgłoszenie” nie można przenieść"), refused.messagePl)
        val bar = tablet.stageMoves(case)
        assertTrue(bar.any { it.to == Stage.SCREENING && it.open }, "$bar")
        val bad = assertThrows<KooperacjaException.Invalid> { runBlocking { tablet.case("not-an-id") } }
        assertEquals("sdk.invalid", bad.reasonCode)
        assertEquals(Stage.REFERRAL, tablet.case(case).stage)
        tablet.shutdown()
    }

    @Test
    fun `a revoked device is told and its data is wiped`() = runBlocking {
        val device = server.enroll("anna")
        val dir = newDataDir()
        val key = newKey()
        val anna = Recorder(Tablet.open(settings(dir, key, "anna", "tablet-anna-6", server.address(device))))
        val case = anna.tablet.createCase("gops-przykladowo", referral(), emptyList())
        anna.status("up to date") { it.state == SyncState.UpToDate && it.pendingChanges == 0uL }

        server.revoke(device)
        anna.until("the revocation event") { anna.events.firstOrNull { it is TabletEvent.Revoked } }
        anna.status("the revoked status") { it.state == SyncState.Revoked }
        anna.tablet.untilStopped()
        anna.close()
        anna.tablet.shutdown()

        // The store is gone: the same directory and key open an empty store.
        val reopened = Tablet.open(settings(dir, key, "anna", "tablet-anna-6", null))
        assertEquals(emptyList<LocalDocument>(), reopened.documents())
        assertThrows<KooperacjaException.UnknownDocument> { runBlocking { reopened.case(case) } }
        reopened.shutdown()
    }
}
