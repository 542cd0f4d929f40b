//! Loopback ports for a committee of keepers on one host (the main job,
//! tests). Peers must know each other's ports before any keeper binds, so a
//! port is picked first and bound later. A port asked of the kernel with
//! `bind(":0")` comes from its ephemeral range, the same range outgoing
//! connections draw their local ports from: between the pick and the bind a
//! miner call or a keep-alive connection can take it (`AddrInUse`). These
//! ports come from just below that range, which connections never use.

use std::io;
use std::net::{TcpListener, UdpSocket};
use std::sync::atomic::{AtomicU32, Ordering};

/// How many ports below the ephemeral range are handed out, in turn.
const SPAN: u32 = 8_192;
/// Never below this: the privileged ports and the well-known services above them.
const FLOOR: u32 = 10_000;

/// Turns taken so far in this process; each turn is a distinct port.
static TURN: AtomicU32 = AtomicU32::new(0);

/// A loopback port (TCP, or UDP when `udp`) nothing is bound to now and no
/// outgoing connection will take: distinct on every call in this process,
/// and spread by process id so concurrent processes start apart.
pub fn loopback_port(udp: bool) -> io::Result<u16> {
    let top = ephemeral_low().min(u16::MAX as u32 + 1);
    let bottom = top.saturating_sub(SPAN).max(FLOOR);
    if top <= bottom {
        // No room below the ephemeral range: the kernel's pick is all there is.
        return kernel_pick(udp);
    }
    let span = top - bottom;
    let start = std::process::id().wrapping_mul(2_654_435_761) % span;
    for _ in 0..span {
        let turn = TURN.fetch_add(1, Ordering::Relaxed);
        let port = (bottom + (start + turn) % span) as u16;
        if is_free(port, udp) {
            return Ok(port);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AddrInUse,
        format!("no free loopback port in {bottom}..{top}"),
    ))
}

/// The low end of the kernel's ephemeral port range (Linux's default when unreadable).
fn ephemeral_low() -> u32 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|low| low.parse().ok()))
        .unwrap_or(32_768)
}

fn is_free(port: u16, udp: bool) -> bool {
    if udp {
        UdpSocket::bind(("127.0.0.1", port)).is_ok()
    } else {
        TcpListener::bind(("127.0.0.1", port)).is_ok()
    }
}

fn kernel_pick(udp: bool) -> io::Result<u16> {
    if udp {
        UdpSocket::bind("127.0.0.1:0")?
            .local_addr()
            .map(|a| a.port())
    } else {
        TcpListener::bind("127.0.0.1:0")?
            .local_addr()
            .map(|a| a.port())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_distinct_bindable_and_below_the_ephemeral_range() {
        let low = ephemeral_low();
        let ports: Vec<u16> = (0..64)
            .map(|i| loopback_port(i % 2 == 0).unwrap())
            .collect();
        let mut unique = ports.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(
            unique.len(),
            ports.len(),
            "every call hands out its own port"
        );
        for (i, &port) in ports.iter().enumerate() {
            if low > FLOOR + 1 {
                assert!(
                    (port as u32) < low && port as u32 >= FLOOR,
                    "port {port} outside {FLOOR}..{low}"
                );
            }
            assert!(is_free(port, i % 2 == 0), "port {port} is bindable");
        }
    }
}
