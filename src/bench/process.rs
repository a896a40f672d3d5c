//! The server's own accounting, from /proc (Linux): CPU time and peak resident memory.

use std::io;

pub struct ServerProcess {
    pid: u32,
    ticks_per_second: f64,
}

impl ServerProcess {
    pub fn new(pid: u32) -> Self {
        // USER_HZ is 100 on every Linux this runs on; /proc reports CPU time in those ticks.
        Self { pid, ticks_per_second: 100.0 }
    }

    /// User + system CPU seconds the process has used so far.
    pub fn cpu_seconds(&self) -> io::Result<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid))?;
        // Fields after the command name (which may hold spaces) start at field 3.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).ok_or_else(|| io::Error::other("odd /proc stat"))?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| {
            fields.get(i).and_then(|f| f.parse::<f64>().ok()).ok_or_else(|| io::Error::other("odd /proc stat"))
        };
        // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the name.
        Ok((ticks(11)? + ticks(12)?) / self.ticks_per_second)
    }

    /// The high-water mark of resident memory (VmHWM) since the last reset.
    pub fn peak_rss_bytes(&self) -> io::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .ok_or_else(|| io::Error::other("no VmHWM"))
    }

    /// Resets the high-water mark, so the next reading is this scenario's peak.
    pub fn reset_peak_rss(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5");
    }
}
