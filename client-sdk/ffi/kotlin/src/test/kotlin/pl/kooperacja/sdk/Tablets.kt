package pl.kooperacja.sdk

import java.nio.file.Files
import java.nio.file.Path
import java.time.Instant
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.withTimeout

/** The longest any wait of these tests may take. */
const val WAIT_MS = 30_000L

/** A fresh random store key, as an app would keep in Android Keystore. */
fun newKey(): ByteArray = ByteArray(32).also { java.security.SecureRandom().nextBytes(it) }

/** A fresh data directory. */
fun newDataDir(): Path = Files.createTempDirectory("kooperacja-tablet")

/** How a test tablet opens: quick reconnects, text committed only at explicit boundaries. */
fun settings(
    dir: Path,
    key: ByteArray,
    login: String,
    peer: String,
    server: ServerSettings?,
    online: Boolean = true,
) = TabletSettings(
    dataDir = dir.toString(),
    storeKey = key,
    peerId = peer,
    user = login,
    institution = "gops-przykladowo",
    server = server,
    online = online,
    commitAfterIdleMs = 3_600_000uL,
    refreshDocumentsEveryMs = 0uL,
    minBackoffMs = 20uL,
    maxBackoffMs = 400uL,
)

/** The school's referral a worker enters with a new case. */
fun referral() = ReferralInput(
    by = "pedagog",
    institution = "sp-1",
    reason = "Częste nieobecności w szkole.",
    at = Instant.parse("2026-03-01T09:00:00Z"),
)

/** A SMART goal of the IPP. */
fun goalPlan() = GoalPlanInput(
    specific = "Regularne chodzenie do szkoły",
    measurable = "Nieobecności poniżej 10%",
    achievable = "Z pomocą świetlicy",
    relevant = "Dziecko chce zdać",
    deadline = "2026-06-30",
    responsible = "sp-1",
    services = emptyList(),
)

/**
 * Waits until [check] gives a value, checking again whenever a tablet reports something on
 * [wake]; fails after [WAIT_MS] saying what it waited for.
 */
suspend fun <T : Any> waitFor(wake: Channel<Unit>, what: String, check: suspend () -> T?): T =
    try {
        withTimeout(WAIT_MS) {
            var found = check()
            while (found == null) {
                wake.receive()
                found = check()
            }
            found
        }
    } catch (e: kotlinx.coroutines.TimeoutCancellationException) {
        throw AssertionError("waited ${WAIT_MS / 1000} s for $what", e)
    }

/**
 * Everything a tablet reports (statuses and events), recorded from the moment it is made, so a
 * test waits for what it expects without racing the tablet. Recorders sharing [wake] wake one
 * waiter for the reports of all their tablets.
 */
class Recorder(val tablet: Tablet, val wake: Channel<Unit> = Channel(Channel.CONFLATED)) : AutoCloseable {
    // Written on the SDK's threads, read by the test: lists safe to iterate while they grow.
    val statuses = java.util.concurrent.CopyOnWriteArrayList<SyncStatus>()
    val events = java.util.concurrent.CopyOnWriteArrayList<TabletEvent>()
    val attachmentEvents = java.util.concurrent.CopyOnWriteArrayList<AttachmentEvent>()
    @Volatile var statusClosed = false

    private val statusSubscription = tablet.watchStatus(object : SyncStatusListener {
        override fun onStatus(status: SyncStatus) {
            statuses.add(status)
            wake.trySend(Unit)
        }

        override fun onClosed() {
            statusClosed = true
            wake.trySend(Unit)
        }
    })
    private val eventSubscription = tablet.watchEvents(object : TabletEventListener {
        override fun onEvent(event: TabletEvent) {
            events.add(event)
            wake.trySend(Unit)
        }

        override fun onClosed() {
            wake.trySend(Unit)
        }
    })

    private val attachmentSubscription = tablet.watchAttachments(object : AttachmentEventListener {
        override fun onEvent(event: AttachmentEvent) {
            attachmentEvents.add(event)
            wake.trySend(Unit)
        }

        override fun onClosed() {
            wake.trySend(Unit)
        }
    })

    /** Waits until [check] holds, checking again after everything the tablet reports. */
    suspend fun <T : Any> until(what: String, check: suspend () -> T?): T =
        waitFor(wake, "$what (last status ${statuses.lastOrNull()?.labelPl}, events $events)", check)

    /** Waits for a reported status that satisfies [check]. */
    suspend fun status(what: String, check: (SyncStatus) -> Boolean): SyncStatus =
        until(what) { statuses.lastOrNull()?.takeIf(check) }

    override fun close() {
        statusSubscription.cancel()
        eventSubscription.cancel()
        attachmentSubscription.cancel()
        statusSubscription.close()
        eventSubscription.close()
        attachmentSubscription.close()
    }
}

/**
 * Waits until the tablets (whose recorders share one `wake`) hold the same case with nothing
 * left to send: each up to date with the server, their case views equal.
 */
suspend fun converged(recorders: List<Recorder>, case: String): CaseView =
    waitFor(recorders.first().wake, "the tablets to converge on $case") {
        val views = recorders.map { r ->
            val status = r.tablet.status()
            if (status.state != SyncState.UpToDate || status.pendingChanges != 0uL) null
            else runCatching { r.tablet.case(case) }.getOrNull()
        }
        views.firstOrNull()?.takeIf { first -> views.all { it == first } }
    }
