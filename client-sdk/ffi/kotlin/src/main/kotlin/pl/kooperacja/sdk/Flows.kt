// Handwritten: the SDK's listener interfaces as Kotlin Flows, for apps that collect them in a
// ViewModel or a Compose screen. The generated bindings (package pl.kooperacja.sdk) hold
// everything else.
package pl.kooperacja.sdk

import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.conflate

/**
 * The tablet's sync status: the current one at once, then every change; ends when the tablet
 * stops (shut down, wiped, revoked). A slow collector sees the latest status, never a stale one.
 */
fun Tablet.statusFlow(): Flow<SyncStatus> = callbackFlow {
    val subscription = watchStatus(object : SyncStatusListener {
        override fun onStatus(status: SyncStatus) {
            trySend(status)
        }

        override fun onClosed() {
            channel.close()
        }
    })
    awaitClose { subscription.cancel(); subscription.close() }
}.conflate()

/** The tablet's events from now on, in order (connections, stored changes, refusals, revocation). */
fun Tablet.eventFlow(): Flow<TabletEvent> = callbackFlow {
    val subscription = watchEvents(object : TabletEventListener {
        override fun onEvent(event: TabletEvent) {
            trySend(event)
        }

        override fun onClosed() {
            channel.close()
        }
    })
    awaitClose { subscription.cancel(); subscription.close() }
}.buffer(Channel.UNLIMITED)

/** The peers present in a document: now, then whenever they come, change or go. */
fun DocumentPresence.peersFlow(): Flow<List<PresencePeer>> = callbackFlow {
    val subscription = watchPeers(object : PeersListener {
        override fun onPeers(peers: List<PresencePeer>) {
            trySend(peers)
        }

        override fun onClosed() {
            channel.close()
        }
    })
    awaitClose { subscription.cancel(); subscription.close() }
}.conflate()

/**
 * The tablet's attachment events from now on, in order: stored, upload progress, retries,
 * refusals, download progress, evictions.
 */
fun Tablet.attachmentEventFlow(): Flow<AttachmentEvent> = callbackFlow {
    val subscription = watchAttachments(object : AttachmentEventListener {
        override fun onEvent(event: AttachmentEvent) {
            trySend(event)
        }

        override fun onClosed() {
            channel.close()
        }
    })
    awaitClose { subscription.cancel(); subscription.close() }
}.buffer(Channel.UNLIMITED)
