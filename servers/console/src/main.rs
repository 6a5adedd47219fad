//! The console server: the serial console's UART and the terminal behind
//! /dev/console and /dev/tty.
//!
//! It takes the UART over from the kernel, binds its receive interrupt,
//! then serves: terminal calls the file server forwards (read, write,
//! readv, writev, ioctl), the file server's poll requests
//! (`lstar_abi::console`), the process server taking the signals the
//! terminal raised, the UART's interrupts and its own timer
//! (notifications), and the kernel's requests to end a held read early
//! (`Cancel`, when a signal comes for the reader). The logic is in the
//! library (`console_server`); this is the loop and the kernel calls behind
//! [`Port`].
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

mod uart;

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use console_server::{Console, Port};
use libsys::{mem, nr, println, Boot, Client, Errno, MessageKind};
use uart::Uart;

libsys::server_main!(main);

/// ioctl's x32 row (`compat_sys_ioctl`), which syscall_nr leaves as it is.
const X32_IOCTL: u64 = 514;

/// Notification bits on this server's endpoint.
const IRQ_BIT: u64 = 1 << 0;
const TIMER_BIT: u64 = 1 << 1;

fn main(boot: Boot) -> ! {
    let ep = boot.endpoint;
    let uart = match Uart::open(uart::COM1) {
        Ok(u) => u,
        Err(e) => panic!("console: cannot use the COM1 ports: {}", e.text()),
    };
    if let Err(e) = mem::irq_bind(uart::COM1_IRQ, IRQ_BIT) {
        // Output still works; input would never come.
        println!("console: cannot bind IRQ {}: {}; no input", uart::COM1_IRQ, e.text());
    }
    uart.enable_rx_interrupt();
    let mut port = Kernel { uart, proc_ep: libsys::lookup("proc").ok(), fs_ep: libsys::lookup("fs").ok(), signals: VecDeque::new() };
    let mut console = Console::new();
    println!("console: ready on COM1");
    // Bytes that came before the interrupt was on raise no edge of their own.
    receive(&mut console, &mut port);
    let mut msg = libsys::recv(ep);
    loop {
        let waiting = port.signals.len();
        let answer = match msg.kind {
            MessageKind::Syscall => console.syscall(&mut port, msg.client, msg.syscall_nr(), msg.args),
            MessageKind::Call if msg.nr == lstar_abi::console::TAKE_SIGNAL => Some(port.take_signal()),
            MessageKind::Call => Some(console.call(msg.nr, msg.args)),
            MessageKind::Notify => {
                if msg.args[0] & IRQ_BIT != 0 {
                    receive(&mut console, &mut port);
                }
                if msg.args[0] & TIMER_BIT != 0 {
                    console.timer(&mut port);
                }
                None
            }
            MessageKind::Cancel => {
                console.cancel(&mut port, msg.client);
                None
            }
            // Only threads a server created fault or stop for it; this one
            // creates none.
            MessageKind::Fault | MessageKind::Interrupted => None,
        };
        msg = match answer {
            // An ioctl that raised a signal (TIOCSWINSZ's SIGWINCH) is
            // answered through the process server, which sends the signal
            // first, as Linux does before the call returns. (No other
            // call raises one; proc takes only ioctls this way.)
            Some(value) if port.signals.len() > waiting && msg.kind == MessageKind::Syscall && matches!(msg.syscall_nr(), nr::IOCTL | X32_IOCTL) => {
                port.answer_through_proc(msg.client, value);
                libsys::recv(ep)
            }
            Some(value) => libsys::reply_recv(ep, msg.client, value),
            None => libsys::recv(ep),
        };
    }
}

/// Hands everything the UART holds to the terminal.
fn receive(console: &mut Console, port: &mut Kernel) {
    let mut bytes = Vec::new();
    loop {
        bytes.clear();
        port.uart.drain(&mut bytes);
        if bytes.is_empty() {
            return;
        }
        console.receive(port, &bytes);
    }
}

/// [`Port`] through the kernel and the other servers.
struct Kernel {
    uart: Uart,
    proc_ep: Option<u64>,
    fs_ep: Option<u64>,
    /// Signals for process groups, oldest first, that the process server
    /// has not taken yet (lstar_abi::console::TAKE_SIGNAL).
    signals: VecDeque<(u32, u8)>,
}

impl Kernel {
    /// The oldest signal waiting for the process server, as
    /// `pgrp << 8 | signal`, or 0.
    fn take_signal(&mut self) -> u64 {
        self.signals.pop_front().map_or(0, |(pgrp, signal)| u64::from(pgrp) << 8 | u64::from(signal))
    }

    /// Answers `client`'s call with `value` through the process server,
    /// which takes the waiting signals first (lstar_abi::proc).
    fn answer_through_proc(&mut self, client: u64, value: u64) {
        let forwarded = self.proc_ep.is_some_and(|ep| libsys::forward(client, ep, value).is_ok());
        if !forwarded {
            let _ = libsys::reply(client, value);
        }
    }
}

impl Port for Kernel {
    fn copy_from(&mut self, client: u64, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        Client(client).read(addr, buf).map_err(|_| Errno::EFAULT)
    }

    fn copy_to(&mut self, client: u64, addr: u64, data: &[u8]) -> Result<(), Errno> {
        Client(client).write(addr, data).map_err(|_| Errno::EFAULT)
    }

    fn reply(&mut self, client: u64, value: u64) {
        // ESRCH: the client is gone (killed while it waited); nothing to do.
        let _ = libsys::reply(client, value);
    }

    fn transmit(&mut self, bytes: &[u8]) {
        self.uart.write(bytes);
    }

    fn kill_pgrp(&mut self, pgrp: u32, signal: u8) {
        // Not a call: the process server calls this one, and would never
        // answer while it waits here (lstar_abi::console). It is told with
        // a notification, which never blocks, and takes the signal.
        let Some(proc_ep) = self.proc_ep else { return };
        self.signals.push_back((pgrp, signal));
        // Raised for each (notifications merge): a take that stopped early
        // leaves none behind unannounced.
        let _ = libsys::notify(proc_ep, lstar_abi::proc::TERMINAL_BIT);
    }

    fn notify_fs(&mut self, bits: u64) {
        if let Some(fs) = self.fs_ep {
            let _ = libsys::notify(fs, bits);
        }
    }

    fn now(&mut self) -> u64 {
        mem::clock(lstar_abi::native::clock::MONOTONIC).unwrap_or(0)
    }

    fn set_timer(&mut self, deadline: Option<u64>) {
        let _ = mem::timer_set(deadline.unwrap_or(0), TIMER_BIT);
    }
}
