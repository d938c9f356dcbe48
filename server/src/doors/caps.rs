//! WebSocket caps per user and per device: a slot is taken when a connection is upgraded and
//! given back when it ends. The table holds only users and devices with an open socket.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Open WebSockets per user and per device, and their caps.
#[derive(Debug)]
pub struct SocketCaps {
    per_user: usize,
    per_device: usize,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    users: HashMap<String, usize>,
    devices: HashMap<String, usize>,
}

/// Which cap a new socket would exceed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapReached {
    /// The device has its most sockets open.
    Device(usize),
    /// The user (all their devices) has their most sockets open.
    User(usize),
}

impl CapReached {
    /// The reason in metrics and the audit log.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Device(_) => "device-connection-cap",
            Self::User(_) => "user-connection-cap",
        }
    }

    /// What the client is told.
    pub fn message(self) -> String {
        match self {
            Self::Device(cap) => format!(
                "To urządzenie ma już otwartych {cap} połączeń (najwięcej, ile wolno); \
                 zamknij nieużywane połączenia i spróbuj ponownie później."
            ),
            Self::User(cap) => format!(
                "To konto ma już otwartych {cap} połączeń na wszystkich urządzeniach \
                 (najwięcej, ile wolno); zamknij nieużywane połączenia i spróbuj ponownie później."
            ),
        }
    }
}

/// One open socket's place in the caps, given back when dropped.
#[derive(Debug)]
pub struct SocketSlot {
    caps: Arc<SocketCaps>,
    user: String,
    device: String,
}

impl SocketCaps {
    /// Caps of `per_user` sockets per user and `per_device` per device (at least one each).
    pub fn new(per_user: usize, per_device: usize) -> Self {
        Self {
            per_user: per_user.max(1),
            per_device: per_device.max(1),
            open: Mutex::new(Open::default()),
        }
    }

    /// A slot for one more socket of `device` of `user`, unless a cap is reached.
    pub fn take(self: &Arc<Self>, user: &str, device: &str) -> Result<SocketSlot, CapReached> {
        let Ok(mut open) = self.open.lock() else {
            return Err(CapReached::Device(self.per_device));
        };
        let on_device = open.devices.get(device).copied().unwrap_or(0);
        if on_device >= self.per_device {
            return Err(CapReached::Device(self.per_device));
        }
        let of_user = open.users.get(user).copied().unwrap_or(0);
        if of_user >= self.per_user {
            return Err(CapReached::User(self.per_user));
        }
        open.devices.insert(device.to_string(), on_device + 1);
        open.users.insert(user.to_string(), of_user + 1);
        Ok(SocketSlot {
            caps: self.clone(),
            user: user.to_string(),
            device: device.to_string(),
        })
    }

    /// Sockets open for `user` (all devices).
    pub fn open_for_user(&self, user: &str) -> usize {
        self.open
            .lock()
            .map(|open| open.users.get(user).copied().unwrap_or(0))
            .unwrap_or(0)
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.caps.open.lock() {
            release(&mut open.devices, &self.device);
            release(&mut open.users, &self.user);
        }
    }
}

fn release(counts: &mut HashMap<String, usize>, key: &str) {
    if let Some(n) = counts.get_mut(key) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            counts.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_device_and_per_user_and_slots_come_back() {
        let caps = Arc::new(SocketCaps::new(3, 2));
        let a1 = caps.take("anna", "tab-1").expect("first");
        let _a2 = caps.take("anna", "tab-1").expect("second");
        assert_eq!(
            caps.take("anna", "tab-1").err(),
            Some(CapReached::Device(2))
        );
        let _a3 = caps.take("anna", "tab-2").expect("another device");
        assert_eq!(caps.take("anna", "tab-3").err(), Some(CapReached::User(3)));
        // Someone else is not affected.
        let _b = caps.take("bartek", "tab-9").expect("bartek");
        drop(a1);
        assert!(caps.take("anna", "tab-1").is_ok());
        assert_eq!(caps.open_for_user("anna"), 2);
    }
}
