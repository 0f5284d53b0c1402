import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isWholeDisk, parseDiskstats } from '../../agent/parsers/diskstats.js';
import { parseDistro } from '../../agent/parsers/distro.js';
import { parseMeminfo } from '../../agent/parsers/meminfo.js';
import { parseLinkState } from '../../agent/parsers/netclass.js';
import { parseNetDev } from '../../agent/parsers/netdev.js';
import { parsePartitions } from '../../agent/parsers/partitions.js';
import { parseSnmp, parseSnmpHeader, snmpValue } from '../../agent/parsers/snmp.js';
import { parseStat } from '../../agent/parsers/stat.js';
import { parseTcpStates, TCP_STATES } from '../../agent/parsers/tcpconn.js';
import { parseUptime } from '../../agent/parsers/uptime.js';

const FIXTURE = new URL('../fixtures/host-vm/', import.meta.url);
const fixture = (path: string): string => readFileSync(new URL(path, FIXTURE), 'utf8');

/** The whitespace-separated fields of the fixture line starting with `prefix`. */
function fieldsOf(text: string, prefix: string): string[] {
  const line = text.split('\n').find((l) => l.trimStart().startsWith(prefix));
  assert.ok(line, `fixture has a line starting ${prefix}`);
  return line.trim().split(/\s+/);
}

test('/proc/stat: the cpu lines, in ticks, and the scalar counters', () => {
  const text = fixture('proc/stat');
  const stat = parseStat(text);
  assert.deepEqual(stat.all, {
    user: 9160n, nice: 0n, system: 4673n, idle: 172671n, iowait: 913n,
    irq: 0n, softirq: 100n, steal: 87n, guest: 0n, guestNice: 0n,
  });
  const cpuLines = text.split('\n').filter((l) => /^cpu\d+ /.test(l));
  assert.deepEqual(stat.cpus.map((c) => c.cpu), cpuLines.map((l) => Number(/^cpu(\d+)/.exec(l)![1])));
  const cpu1 = fieldsOf(text, 'cpu1 ').slice(1).map(BigInt);
  assert.deepEqual(Object.values(stat.cpus[1]!.ticks), cpu1);
  assert.equal(stat.intr, BigInt(fieldsOf(text, 'intr ')[1]!));
  assert.equal(stat.ctxt, 749806n);
  assert.equal(stat.btime, 1795763789n);
  assert.equal(stat.processes, 14533n);
  assert.equal(stat.procsRunning, 1n);
  assert.equal(stat.procsBlocked, 0n);
});

test('/proc/stat of an old kernel: missing cpu columns read as zero; junk is refused with the line', () => {
  const stat = parseStat('cpu  10 20 30 40\ncpu0 10 20 30 40\nctxt 5\n');
  assert.equal(stat.all.idle, 40n);
  assert.equal(stat.all.steal, 0n);
  assert.equal(stat.intr, undefined);
  assert.throws(() => parseStat('cpu  10 x 30 40\n'), /cannot parse "cpu  10 x 30 40": expected an unsigned number, not "x"/);
  assert.throws(() => parseStat('ctxt 5\n'), /expected a line "cpu/);
});

test('/proc/uptime and /proc/meminfo', () => {
  assert.deepEqual(parseUptime(fixture('proc/uptime')), { uptime: 941.71, idle: 1726.71 });
  assert.throws(() => parseUptime('941.71\n'), /two numbers/);

  const text = fixture('proc/meminfo');
  const mem = parseMeminfo(text);
  assert.equal(mem.get('MemTotal'), 24684084n);
  assert.equal(mem.get('Active(anon)'), 1592n);
  assert.equal(mem.get('HugePages_Total'), 0n);
  assert.equal(mem.get('Hugepagesize'), 2048n);
  assert.equal(mem.size, text.trim().split('\n').length);
  assert.throws(() => parseMeminfo('MemTotal 5 kB\n'), /cannot parse "MemTotal 5 kB"/);
});

test('/proc/diskstats: every line with all 17 counters, and /proc/partitions sizes', () => {
  const text = fixture('proc/diskstats');
  const disks = parseDiskstats(text);
  assert.equal(disks.length, text.trim().split('\n').length);
  const vda = disks.find((d) => d.name === 'vda')!;
  const raw = fieldsOf(text, '254').slice(3).map(BigInt);
  assert.deepEqual(
    [vda.major, vda.minor, vda.readIos, vda.readMerges, vda.readSectors, vda.readTicks, vda.writeIos, vda.writeMerges,
      vda.writeSectors, vda.writeTicks, vda.inFlight, vda.ioTicks, vda.timeInQueue, vda.discardIos, vda.discardMerges,
      vda.discardSectors, vda.discardTicks, vda.flushIos, vda.flushTicks],
    [254, 0, ...raw],
  );
  assert.equal(vda.readSectors, 4012458n);
  // Before Linux 4.18 there are 14 fields; discard and flush read as zero.
  const old = parseDiskstats('   8       0 sda 1 2 3 4 5 6 7 8 9 10 11\n')[0]!;
  assert.equal(old.timeInQueue, 11n);
  assert.equal(old.discardIos, 0n);
  assert.equal(old.flushTicks, 0n);
  assert.throws(() => parseDiskstats('   8 0 sda 1 2 3\n'), /at least 11 counters/);

  assert.deepEqual(parsePartitions(fixture('proc/partitions')), new Map([['vda', 268435456n]]));
});

test('whole disks are told from partitions and virtual devices by name, as PCP does', () => {
  const disks = ['vda', 'sda', 'xvda', 'hdc', 'nvme0n1', 'mmcblk0', 'rbd3', 'nbd0'];
  const others = ['vda1', 'sda15', 'xvda2', 'nvme0n1p1', 'mmcblk0p2', 'rbd3p1', 'nbd0p1', 'loop0', 'ram0', 'zram0',
    'dm-0', 'md127', 'sr0', 'xvm1', '3600508b400105e21'.padEnd(18, '0')];
  for (const name of disks) assert.ok(isWholeDisk(name), `${name} is a disk`);
  for (const name of others) assert.ok(!isWholeDisk(name), `${name} is not a disk`);
  // This host: only vda of vda, loop0-7 and zram0.
  assert.deepEqual(parseDiskstats(fixture('proc/diskstats')).map((d) => d.name).filter(isWholeDisk), ['vda']);
  assert.deepEqual(parseDiskstats(fixture('proc/diskstats'), isWholeDisk).map((d) => d.name), ['vda'], 'only the kept devices');
});

test('/proc/net/dev: interfaces split at the colon, all 16 counters', () => {
  const text = fixture('proc/net/dev');
  const devices = parseNetDev(text);
  assert.deepEqual(devices.map((d) => d.name), ['lo', 'ifb0', 'ifb1', 'eth0']);
  const eth0 = devices.find((d) => d.name === 'eth0')!;
  const raw = fieldsOf(text, 'eth0:').slice(1).map(BigInt);
  assert.deepEqual([...Object.values(eth0.rx), ...Object.values(eth0.tx)], raw);
  assert.equal(eth0.rx.bytes, 337729873n);
  // A 15-character name and a counter wide enough to close the gap after the colon.
  const [long] = parseNetDev(`h1\nh2\nvethabcdef12345:123456789012 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n`);
  assert.equal(long!.name, 'vethabcdef12345');
  assert.equal(long!.rx.bytes, 123456789012n);
  assert.equal(long!.tx.compressed, 16n);
  assert.throws(() => parseNetDev('h1\nh2\n  eth0 1 2 3\n'), /cannot parse "  eth0 1 2 3"/);
});

test('/proc/net/snmp and /proc/net/netstat: section → column → signed value', () => {
  const snmp = parseSnmp(fixture('proc/net/snmp'));
  const tcp = snmp.get('Tcp')!;
  const header = fieldsOf(fixture('proc/net/snmp'), 'Tcp: RtoAlgorithm');
  assert.deepEqual([...tcp.header.columns.keys()], header.slice(1));
  assert.equal(snmpValue(tcp, 'MaxConn'), -1n);
  assert.equal(snmpValue(tcp, 'RetransSegs'), 1n);
  assert.equal(snmpValue(tcp, 'NoSuchColumn'), undefined);
  assert.equal(snmpValue(snmp.get('Ip')!, 'Forwarding'), 1n);
  const netstat = parseSnmp(fixture('proc/net/netstat'));
  assert.deepEqual([...netstat.keys()], ['TcpExt', 'IpExt', 'MPTcpExt']);
  assert.equal(snmpValue(netstat.get('IpExt')!, 'InOctets'), BigInt(fieldsOf(fixture('proc/net/netstat'), 'IpExt: 0')[7]!));
  assert.throws(() => parseSnmp('Tcp: A B\nTcp: 1\n'), /a line of 2 values following the header "Tcp: A B"/);
  assert.throws(() => parseSnmp('Tcp: A B\nUdp: 1 2\n'), /following the header/);
  // Only the values asked for are converted: a bad one fails when it is read.
  assert.throws(() => snmpValue(parseSnmp('Tcp: A B\nTcp: 1 x\n').get('Tcp')!, 'B'), /cannot parse "Tcp: 1 x"/);
});

test('/proc/net/snmp: header lines are split by the parser the caller gives (the collector\'s memo)', () => {
  const text = fixture('proc/net/snmp');
  const seen: string[] = [];
  parseSnmp(text, (line) => {
    seen.push(line);
    return parseSnmpHeader(line);
  });
  const headers = text.split('\n').filter((line) => line !== '').filter((_, i) => i % 2 === 0);
  assert.deepEqual(seen, headers);
});

test('/proc/net/tcp: sockets counted by the hex state column', () => {
  const text = fixture('proc/net/tcp');
  const expected = Object.fromEntries(TCP_STATES.map((s) => [s, 0]));
  for (const line of text.trim().split('\n').slice(1)) {
    expected[TCP_STATES[parseInt(line.trim().split(/\s+/)[3]!, 16) - 1]!]!++;
  }
  assert.deepEqual(parseTcpStates(text), expected);
  assert.equal(parseTcpStates(text).listen, text.split('\n').filter((l) => / 0A /.test(l)).length);
  // NEW_SYN_RECV (0C) is not a state PCP counts.
  const row = (st: string): string => `   0: 0100007F:AD22 00000000:0000 ${st} 00000000:00000000 00:00000000 00000000 0 0 1 1`;
  const counts = parseTcpStates(['header', row('01'), row('01'), row('06'), row('0C')].join('\n'));
  assert.equal(counts.established, 2);
  assert.equal(counts.time_wait, 1);
  assert.equal(Object.values(counts).reduce((a, b) => a + b), 3);
  assert.equal(parseTcpStates(fixture('proc/net/tcp6')).listen, 0);
});

test('link state from /sys/class/net: up/running as SIOCGIFFLAGS says, unknown speed is no value', () => {
  const attrs = (ifname: string) => {
    const read = (file: string): string | undefined => {
      try {
        return fixture(`sys/class/net/${ifname}/${file}`);
      } catch {
        return undefined;
      }
    };
    return { flags: read('flags'), operstate: read('operstate'), mtu: read('mtu'), speed: read('speed'), duplex: read('duplex') };
  };
  assert.deepEqual(parseLinkState(attrs('eth0')), { up: true, running: true, mtu: 1400 });
  assert.deepEqual(parseLinkState(attrs('lo')), { up: true, running: true, mtu: 65536 });
  assert.deepEqual(parseLinkState(attrs('ifb0')), { up: false, running: false, mtu: 1500 });
  assert.deepEqual(
    parseLinkState({ flags: '0x1003\n', operstate: 'up\n', mtu: '9000\n', speed: '10000\n', duplex: 'full\n' }),
    { up: true, running: true, mtu: 9000, speed: 10000, duplex: 2 },
  );
  assert.equal(parseLinkState({ flags: '0x1003', operstate: 'lowerlayerdown' }).running, false);
  assert.equal(parseLinkState({ duplex: 'half' }).duplex, 1);
});

test('the distribution name, from the release file PCP finds first', () => {
  assert.equal(parseDistro('debian_version', fixture('etc/debian_version')), 'Debian 12.11');
  assert.equal(parseDistro('lsb-release', 'DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=24.04\n'), 'Ubuntu');
  assert.equal(parseDistro('redhat-release', 'Red Hat Enterprise Linux release 9.4 (Plow)\n'), 'Red Hat Enterprise Linux release 9.4 (Plow)');
});
