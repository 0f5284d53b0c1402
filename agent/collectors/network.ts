import { networkFamily } from '../metrics/network.js';
import { parseLinkState } from '../parsers/netclass.js';
import { parseNetDev, type NetDevice } from '../parsers/netdev.js';
import { parseSnmp, parseSnmpHeader, snmpValue, type SnmpHeader } from '../parsers/snmp.js';
import { parseTcpStates, TCP_STATES, type TcpState } from '../parsers/tcpconn.js';
import type { SampleWriter } from '../store/sample.js';
import { ProcFiles, readParsed } from './procfs.js';
import { log } from '../log.js';
import { readOptional, readOptionalAsync } from './read.js';
import type { CollectContext, Collector, Roots } from './types.js';

/**
 * Where each network.{ip,icmp,tcp,udp,udplite,mptcp} metric comes from, as PCP's linux PMDA
 * maps them: a section and column of <net>/snmp or <net>/netstat. Columns this kernel does
 * not print leave their metric without a value; columns PCP does not know are not served.
 */
const SNMP_SECTIONS: ReadonlyArray<{
  file: 'snmp' | 'netstat';
  section: string;
  prefix: string;
  /** metric leaf → kernel column */
  columns: Record<string, string>;
}> = [
  { file: 'snmp', section: 'Ip', prefix: 'network.ip', columns: {
    forwarding: 'Forwarding', defaultttl: 'DefaultTTL', inreceives: 'InReceives', inhdrerrors: 'InHdrErrors',
    inaddrerrors: 'InAddrErrors', forwdatagrams: 'ForwDatagrams', inunknownprotos: 'InUnknownProtos',
    indiscards: 'InDiscards', indelivers: 'InDelivers', outrequests: 'OutRequests', outdiscards: 'OutDiscards',
    outnoroutes: 'OutNoRoutes', reasmtimeout: 'ReasmTimeout', reasmreqds: 'ReasmReqds', reasmoks: 'ReasmOKs',
    reasmfails: 'ReasmFails', fragoks: 'FragOKs', fragfails: 'FragFails', fragcreates: 'FragCreates',
  } },
  { file: 'snmp', section: 'Icmp', prefix: 'network.icmp', columns: {
    inmsgs: 'InMsgs', inerrors: 'InErrors', indestunreachs: 'InDestUnreachs', intimeexcds: 'InTimeExcds',
    inparmprobs: 'InParmProbs', insrcquenchs: 'InSrcQuenchs', inredirects: 'InRedirects', inechos: 'InEchos',
    inechoreps: 'InEchoReps', intimestamps: 'InTimestamps', intimestampreps: 'InTimestampReps',
    inaddrmasks: 'InAddrMasks', inaddrmaskreps: 'InAddrMaskReps', outmsgs: 'OutMsgs', outerrors: 'OutErrors',
    outdestunreachs: 'OutDestUnreachs', outtimeexcds: 'OutTimeExcds', outparmprobs: 'OutParmProbs',
    outsrcquenchs: 'OutSrcQuenchs', outredirects: 'OutRedirects', outechos: 'OutEchos', outechoreps: 'OutEchoReps',
    outtimestamps: 'OutTimestamps', outtimestampreps: 'OutTimestampReps', outaddrmasks: 'OutAddrMasks',
    outaddrmaskreps: 'OutAddrMaskReps', incsumerrors: 'InCsumErrors',
  } },
  { file: 'snmp', section: 'Tcp', prefix: 'network.tcp', columns: {
    rtoalgorithm: 'RtoAlgorithm', rtomin: 'RtoMin', rtomax: 'RtoMax', maxconn: 'MaxConn', activeopens: 'ActiveOpens',
    passiveopens: 'PassiveOpens', attemptfails: 'AttemptFails', estabresets: 'EstabResets', currestab: 'CurrEstab',
    insegs: 'InSegs', outsegs: 'OutSegs', retranssegs: 'RetransSegs', inerrs: 'InErrs', outrsts: 'OutRsts',
    incsumerrors: 'InCsumErrors',
  } },
  { file: 'snmp', section: 'Udp', prefix: 'network.udp', columns: {
    indatagrams: 'InDatagrams', noports: 'NoPorts', inerrors: 'InErrors', outdatagrams: 'OutDatagrams',
    recvbuferrors: 'RcvbufErrors', sndbuferrors: 'SndbufErrors', incsumerrors: 'InCsumErrors',
    ignoredmulti: 'IgnoredMulti', memerrors: 'MemErrors',
  } },
  { file: 'snmp', section: 'UdpLite', prefix: 'network.udplite', columns: {
    indatagrams: 'InDatagrams', noports: 'NoPorts', inerrors: 'InErrors', outdatagrams: 'OutDatagrams',
    recvbuferrors: 'RcvbufErrors', sndbuferrors: 'SndbufErrors', incsumerrors: 'InCsumErrors',
    ignoredmulti: 'IgnoredMulti', memerrors: 'MemErrors',
  } },
  { file: 'netstat', section: 'IpExt', prefix: 'network.ip', columns: {
    innoroutes: 'InNoRoutes', intruncatedpkts: 'InTruncatedPkts', inmcastpkts: 'InMcastPkts',
    outmcastpkts: 'OutMcastPkts', inbcastpkts: 'InBcastPkts', outbcastpkts: 'OutBcastPkts', inoctets: 'InOctets',
    outoctets: 'OutOctets', inmcastoctets: 'InMcastOctets', outmcastoctets: 'OutMcastOctets',
    inbcastoctets: 'InBcastOctets', outbcastoctets: 'OutBcastOctets', csumerrors: 'InCsumErrors',
    noectpkts: 'InNoECTPkts', ect1pkts: 'InECT1Pkts', ect0pkts: 'InECT0Pkts', cepkts: 'InCEPkts',
    reasmoverlaps: 'ReasmOverlaps',
  } },
  { file: 'netstat', section: 'TcpExt', prefix: 'network.tcp', columns: {
    syncookiessent: 'SyncookiesSent', syncookiesrecv: 'SyncookiesRecv', syncookiesfailed: 'SyncookiesFailed',
    embryonicrsts: 'EmbryonicRsts', prunecalled: 'PruneCalled', rcvpruned: 'RcvPruned', ofopruned: 'OfoPruned',
    outofwindowicmps: 'OutOfWindowIcmps', lockdroppedicmps: 'LockDroppedIcmps', arpfilter: 'ArpFilter',
    timewaited: 'TW', timewaitrecycled: 'TWRecycled', timewaitkilled: 'TWKilled', pawspassiverejected: 'PAWSPassive',
    pawsactiverejected: 'PAWSActive', pawsestabrejected: 'PAWSEstab', delayedacks: 'DelayedACKs',
    delayedacklocked: 'DelayedACKLocked', delayedacklost: 'DelayedACKLost', listenoverflows: 'ListenOverflows',
    listendrops: 'ListenDrops', prequeued: 'TCPPrequeued', directcopyfrombacklog: 'TCPDirectCopyFromBacklog',
    directcopyfromprequeue: 'TCPDirectCopyFromPrequeue', prequeueddropped: 'TCPPrequeueDropped', hphits: 'TCPHPHits',
    hphitstouser: 'TCPHPHitsToUser', pureacks: 'TCPPureAcks', hpacks: 'TCPHPAcks', renorecovery: 'TCPRenoRecovery',
    sackrecovery: 'TCPSackRecovery', sackreneging: 'TCPSACKReneging', fackreorder: 'TCPFACKReorder',
    sackreorder: 'TCPSACKReorder', renoreorder: 'TCPRenoReorder', tsreorder: 'TCPTSReorder', fullundo: 'TCPFullUndo',
    partialundo: 'TCPPartialUndo', dsackundo: 'TCPDSACKUndo', lossundo: 'TCPLossUndo',
    lostretransmit: 'TCPLostRetransmit', renofailures: 'TCPRenoFailures', sackfailures: 'TCPSackFailures',
    lossfailures: 'TCPLossFailures', fastretrans: 'TCPFastRetrans', forwardretrans: 'TCPForwardRetrans',
    slowstartretrans: 'TCPSlowStartRetrans', timeouts: 'TCPTimeouts', lossprobes: 'TCPLossProbes',
    lossproberecovery: 'TCPLossProbeRecovery', renorecoveryfail: 'TCPRenoRecoveryFail',
    sackrecoveryfail: 'TCPSackRecoveryFail', schedulerfail: 'TCPSchedulerFailed', rcvcollapsed: 'TCPRcvCollapsed',
    dsackoldsent: 'TCPDSACKOldSent', dsackofosent: 'TCPDSACKOfoSent', dsackrecv: 'TCPDSACKRecv',
    dsackoforecv: 'TCPDSACKOfoRecv', abortondata: 'TCPAbortOnData', abortonclose: 'TCPAbortOnClose',
    abortonmemory: 'TCPAbortOnMemory', abortontimeout: 'TCPAbortOnTimeout', abortonlinger: 'TCPAbortOnLinger',
    abortfailed: 'TCPAbortFailed', memorypressures: 'TCPMemoryPressures', sackdiscard: 'TCPSACKDiscard',
    dsackignoredold: 'TCPDSACKIgnoredOld', dsackignorednoundo: 'TCPDSACKIgnoredNoUndo',
    spuriousrtos: 'TCPSpuriousRTOs', md5notfound: 'TCPMD5NotFound', md5unexpected: 'TCPMD5Unexpected',
    sackshifted: 'TCPSackShifted', sackmerged: 'TCPSackMerged', sackshiftfallback: 'TCPSackShiftFallback',
    backlogdrop: 'TCPBacklogDrop', minttldrop: 'TCPMinTTLDrop', deferacceptdrop: 'TCPDeferAcceptDrop',
    iprpfilter: 'IPReversePathFilter', timewaitoverflow: 'TCPTimeWaitOverflow',
    reqqfulldocookies: 'TCPReqQFullDoCookies', reqqfulldrop: 'TCPReqQFullDrop', retransfail: 'TCPRetransFail',
    rcvcoalesce: 'TCPRcvCoalesce', ofoqueue: 'TCPOFOQueue', ofodrop: 'TCPOFODrop', ofomerge: 'TCPOFOMerge',
    challengeack: 'TCPChallengeACK', synchallenge: 'TCPSYNChallenge', fastopenactive: 'TCPFastOpenActive',
    fastopenactivefail: 'TCPFastOpenActiveFail', fastopenpassive: 'TCPFastOpenPassive',
    fastopenpassivefail: 'TCPFastOpenPassiveFail', fastopenlistenoverflow: 'TCPFastOpenListenOverflow',
    fastopencookiereqd: 'TCPFastOpenCookieReqd', spuriousrtxhostqueues: 'TCPSpuriousRtxHostQueues',
    busypollrxpackets: 'BusyPollRxPackets', autocorking: 'TCPAutoCorking', fromzerowindowadv: 'TCPFromZeroWindowAdv',
    tozerowindowadv: 'TCPToZeroWindowAdv', wantzerowindowadv: 'TCPWantZeroWindowAdv', synretrans: 'TCPSynRetrans',
    origdatasent: 'TCPOrigDataSent', tcpbacklogcoalesce: 'TCPBacklogCoalesce',
    tcpmemorypressureschrono: 'TCPMemoryPressuresChrono', tcpmd5failure: 'TCPMD5Failure',
    pfmemallocdrop: 'PFMemallocDrop', tcpfastopenactivefail: 'TCPFastOpenActiveFail',
    tcpfastopenblackhole: 'TCPFastOpenBlackhole', tcphystarttraindetect: 'TCPHystartTrainDetect',
    tcphystarttraincwnd: 'TCPHystartTrainCwnd', tcphystartdelaydetect: 'TCPHystartDelayDetect',
    tcphystartdelaycwnd: 'TCPHystartDelayCwnd', tcpackskippedsynrecv: 'TCPACKSkippedSynRecv',
    tcpackskippedpaws: 'TCPACKSkippedPAWS', tcpackskippedseq: 'TCPACKSkippedSeq',
    tcpackskippedfinwait2: 'TCPACKSkippedFinWait2', tcpackskippedtimewait: 'TCPACKSkippedTimeWait',
    tcpackskippedchallenge: 'TCPACKSkippedChallenge', tcpwinprobe: 'TCPWinProbe', tcpkeepalive: 'TCPKeepAlive',
    tcpmtupfail: 'TCPMTUPFail', tcpmtupsuccess: 'TCPMTUPSuccess', tcpdelivered: 'TCPDelivered',
    tcpdeliveredce: 'TCPDeliveredCE', tcpackcompressed: 'TCPAckCompressed', tcpzerowindowdrop: 'TCPZeroWindowDrop',
    tcprcvqdrop: 'TCPRcvQDrop', tcpwqueuetoobig: 'TCPWqueueTooBig',
    tcpfastopenpassivealtkey: 'TCPFastOpenPassiveAltKey', tcptimeoutrehash: 'TcpTimeoutRehash',
    tcpduplicatedatarehash: 'TcpDuplicateDataRehash', tcpdsackrecvsegs: 'TCPDSACKRecvSegs',
    tcpdsackignoreddubious: 'TCPDSACKIgnoredDubious', tcpmigratereqsuccess: 'TCPMigrateReqSuccess',
    tcpmigratereqfailure: 'TCPMigrateReqFailure', tcploss: 'TCPLoss',
  } },
  { file: 'netstat', section: 'MPTcpExt', prefix: 'network.mptcp', columns: {
    mpcapablesynrx: 'MPCapableSYNRX', mpcapableackrx: 'MPCapableACKRX', mpcapablefallbackack: 'MPCapableFallbackACK',
    mpcapablefallbacksynack: 'MPCapableFallbackSYNACK', mptcpretrans: 'MPTCPRetrans',
    mpjoinnotokenfound: 'MPJoinNoTokenFound', mpjoinsynrx: 'MPJoinSynRx', mpjoinsynackrx: 'MPJoinSynAckRx',
    mpjoinsynackhmacfailure: 'MPJoinSynAckHMacFailure', mpjoinackrx: 'MPJoinAckRx',
    mpjoinackhmacfailure: 'MPJoinAckHMacFailure', dssnotmatching: 'DSSNotMatching', infinitemaprx: 'InfiniteMapRx',
    mpcapablesyntx: 'MPCapableSYNTX', mpcapablesynackrx: 'MPCapableSYNACKRX',
    mpfallbacktokeninit: 'MPFallbackTokenInit', dssnomatchtcp: 'DSSNoMatchTCP', datacsumerr: 'DataCsumErr',
    ofoqueuetail: 'OFOQueueTail', ofoqueue: 'OFOQueue', ofomerge: 'OFOMerge', nodssinwindow: 'NoDSSInWindow',
    duplicatedata: 'DuplicateData', addaddr: 'AddAddr', echoadd: 'EchoAdd', portadd: 'PortAdd',
    mpjoinportsynrx: 'MPJoinPortSynRx', mpjoinportsynackrx: 'MPJoinPortSynAckRx', mpjoinportackrx: 'MPJoinPortAckRx',
    mismatchportsynrx: 'MismatchPortSynRx', mismatchportackrx: 'MismatchPortAckRx', rmaddr: 'RmAddr',
    rmsubflow: 'RmSubflow', mppriotx: 'MPPrioTx', mppriorx: 'MPPrioRx', rcvpruned: 'RcvPruned', mpfailtx: 'MPFailTx',
    mpfailrx: 'MPFailRx', subflowstale: 'SubflowStale', subflowrecover: 'SubflowRecover', addaddrdrop: 'AddAddrDrop',
    rmaddrdrop: 'RmAddrDrop', mpfastclosetx: 'MPFastcloseTx', mpfastcloserx: 'MPFastcloseRx', mprsttx: 'MPRstTx',
    mprstrx: 'MPRstRx', infinitemaptx: 'InfiniteMapTx', sndwndshared: 'SndWndShared', rcvwndshared: 'RcvWndShared',
    rcvwndconflictupdate: 'RcvWndConflictUpdate', rcvwndconflict: 'RcvWndConflict',
  } },
];

/**
 * network.interface.<leaf> of each interface from its <net>/dev line; network.all.<leaf> is
 * the sum over physical interfaces for the leaves PCP has there (bytes, packets, errors and
 * drops). There is no out.mcasts, so PCP's total.mcasts is the receive count alone.
 */
const COUNTERS: ReadonlyArray<readonly [leaf: string, value: (d: NetDevice) => bigint]> = [
  ['in.bytes', (d) => d.rx.bytes],
  ['in.packets', (d) => d.rx.packets],
  ['in.errors', (d) => d.rx.errors],
  ['in.drops', (d) => d.rx.drops],
  ['in.fifo', (d) => d.rx.fifo],
  ['in.frame', (d) => d.rx.frame],
  ['in.compressed', (d) => d.rx.compressed],
  ['in.mcasts', (d) => d.rx.multicast],
  ['out.bytes', (d) => d.tx.bytes],
  ['out.packets', (d) => d.tx.packets],
  ['out.errors', (d) => d.tx.errors],
  ['out.drops', (d) => d.tx.drops],
  ['out.fifo', (d) => d.tx.fifo],
  ['collisions', (d) => d.tx.collisions],
  ['out.carrier', (d) => d.tx.carrier],
  ['out.compressed', (d) => d.tx.compressed],
  ['total.bytes', (d) => d.rx.bytes + d.tx.bytes],
  ['total.packets', (d) => d.rx.packets + d.tx.packets],
  ['total.errors', (d) => d.rx.errors + d.tx.errors],
  ['total.drops', (d) => d.rx.drops + d.tx.drops],
  ['total.mcasts', (d) => d.rx.multicast],
];

/**
 * Interfaces left out of network.all, PCP's default (its interfaces.conf): loopback and the
 * virtual devices that would count the same traffic twice.
 */
const VIRTUAL =
  /^(lo|bond[0-9]+|team[0-9]+|tun[0-9]+|virbr[0-9]+|virbr[0-9]+-nic|cni[0-9]+|cni-podman[0-9]+|docker[0-9]+|veth[0-9]+|face)$/;

/**
 * Socket counts per TCP state cost the kernel a walk of its whole socket hash table for each of
 * /proc/net/tcp and tcp6, however few sockets there are: 4 ms each on this 24 GiB VM, more than
 * every other host file together. They are read at most every TCP_STATES_MS per namespace and
 * served unchanged in between (network.tcpconn.* are instantaneous counts; the retransmit and
 * reset counters beside them come from /proc/net/snmp every pass).
 */
export const TCP_STATES_MS = 5000;

type TcpStates = ReturnType<typeof parseTcpStates>;

/** One table's latest counts, when they were read, and whether a background read is under way. */
interface TcpStatesEntry {
  at: number;
  states: TcpStates | undefined;
  refreshing: boolean;
}

/**
 * The latest TCP state counts per table. The first read of a table is synchronous, so the first
 * sample has them; after that a table older than TCP_STATES_MS is read again in the background,
 * off the event loop (those milliseconds of kernel time would otherwise stall every API request
 * due meanwhile), and a pass serves the counts it has until the new ones are in.
 */
export class TcpStateCache {
  private readonly entries = new Map<string, TcpStatesEntry>();

  read(path: string, ctx: CollectContext, now = performance.now()): TcpStates | undefined {
    const cached = this.entries.get(path);
    if (cached === undefined) {
      const states = readParsed(path, parseTcpStates, ctx);
      this.entries.set(path, { at: now, states, refreshing: false });
      return states;
    }
    if (now - cached.at >= TCP_STATES_MS && !cached.refreshing) {
      cached.refreshing = true;
      void this.refresh(path, cached, ctx);
    }
    // Namespaces of containers that are gone: forget them.
    for (const [key, entry] of this.entries) if (now - entry.at > 12 * TCP_STATES_MS) this.entries.delete(key);
    return cached.states;
  }

  private async refresh(path: string, entry: TcpStatesEntry, ctx: CollectContext): Promise<void> {
    try {
      const text = await readOptionalAsync(path, ctx);
      entry.states = text === undefined ? undefined : parseTcpStates(text);
    } catch (error) {
      entry.states = undefined;
      log.warn('TCP state counts could not be read; network.tcpconn.* have no values until a later read works', { path, error });
    } finally {
      entry.at = performance.now();
      entry.refreshing = false;
    }
  }
}

const tcpStates = new TcpStateCache();

/** A metric collectNetwork writes, and its name as the caller asks `ctx.wants` about it (prefixed). */
interface Named {
  metric: string;
  asked: string;
}

/**
 * Every metric collectNetwork can write, grouped by the file it comes from, with the names a
 * pass asks about made once per prefix: a pass then builds no string per value.
 */
interface NetworkPlan {
  interfaces: Array<Named & { value: (d: NetDevice) => bigint }>;
  totals: Array<Named & { value: (d: NetDevice) => bigint }>;
  linkState: string[];
  snmp: Record<'snmp' | 'netstat', Array<{ section: string; columns: Array<Named & { column: string }> }>>;
  tcp: Array<{ file: 'tcp' | 'tcp6'; states: Array<Named & { state: TcpState }> }>;
}

const TCP_FILES = [['tcp', 'network.tcpconn'], ['tcp6', 'network.tcpconn6']] as const;
const DECLARED = new Set(networkFamily.metrics.map((m) => m.name));

function networkPlan(prefix: string): NetworkPlan {
  const named = (metric: string): Named => ({ metric, asked: prefix + metric });
  const snmpFile = (file: 'snmp' | 'netstat'): NetworkPlan['snmp']['snmp'] => SNMP_SECTIONS.filter((s) => s.file === file).map((s) => ({
    section: s.section,
    columns: Object.entries(s.columns).map(([leaf, column]) => ({ ...named(`${s.prefix}.${leaf}`), column })),
  }));
  return {
    interfaces: COUNTERS.map(([leaf, value]) => ({ ...named(`network.interface.${leaf}`), value })),
    totals: COUNTERS.filter(([leaf]) => DECLARED.has(`network.all.${leaf}`)).map(([leaf, value]) => ({ ...named(`network.all.${leaf}`), value })),
    linkState: ['up', 'running', 'mtu', 'duplex', 'speed', 'baudrate'].map((leaf) => `${prefix}network.interface.${leaf}`),
    snmp: { snmp: snmpFile('snmp'), netstat: snmpFile('netstat') },
    tcp: TCP_FILES.map(([file, family]) => ({ file, states: TCP_STATES.map((state) => ({ ...named(`${family}.${state}`), state })) })),
  };
}

/** By prefix: '' for the host's namespace, `containers.` for containers'. */
const plans = new Map<string, NetworkPlan>();

/** The snmp and netstat headers met so far: the kernel prints the same ones every time. */
const snmpHeaders = new Map<string, SnmpHeader>();
function snmpHeader(line: string): SnmpHeader {
  let header = snmpHeaders.get(line);
  if (!header) {
    // A fixture tree could show any number of different files; a kernel shows a handful.
    if (snmpHeaders.size >= 64) snmpHeaders.clear();
    snmpHeaders.set(line, (header = parseSnmpHeader(line)));
  }
  return header;
}

export interface NetworkOptions {
  /**
   * `/sys/class/net` as seen from the namespace, for link state (mtu, speed, duplex, up,
   * running); omit it when no such view exists, and those metrics are left without values.
   */
  classNetDir?: string;
  /**
   * What the caller puts before the names it keeps (`containers.`), so that only files with a
   * wanted metric are read and only wanted values converted.
   */
  prefix?: string;
  /** Reads dev, snmp and netstat through kept descriptors: the host's, whose directory stays. */
  files?: ProcFiles;
  /** Reads the link state files under classNetDir through kept descriptors (five per interface). */
  linkFiles?: ProcFiles;
}

/**
 * Writes every network.* metric (and hinv.ninterface) of one network namespace that is wanted.
 *
 * @param netDir the namespace's procfs net directory: `<procfs>/net` for the host's,
 *   `<procfs>/<pid>/net` for a container's (any pid inside its network namespace).
 */
export function collectNetwork(netDir: string, out: SampleWriter, ctx: CollectContext, options: NetworkOptions = {}): void {
  const { classNetDir, prefix = '', files, linkFiles } = options;
  const parsed = <T>(path: string, parse: (text: string) => T): T | undefined =>
    files ? files.parsed(path, parse, ctx) : readParsed(path, parse, ctx);
  let plan = plans.get(prefix);
  if (!plan) plans.set(prefix, (plan = networkPlan(prefix)));
  const wanted = <T extends Named>(metrics: readonly T[]): T[] => metrics.filter((m) => ctx.wants(m.asked));

  const devices = parsed(`${netDir}/dev`, parseNetDev);
  if (devices) {
    out.put('hinv.ninterface', devices.length);
    const counters = wanted(plan.interfaces);
    // Five sysfs files per interface: only when someone wants link state.
    const linkState = classNetDir !== undefined && plan.linkState.some((name) => ctx.wants(name));
    for (const device of devices) {
      for (const { metric, value } of counters) out.put(metric, value(device), device.name);
      if (linkState) putLinkState(out, device.name, `${classNetDir}/${device.name}`, ctx, linkFiles);
    }
    const totals = wanted(plan.totals);
    const physical = totals.length > 0 ? devices.filter((d) => !VIRTUAL.test(d.name)) : [];
    for (const { metric, value } of totals) out.put(metric, physical.reduce((sum, d) => sum + value(d), 0n));
  }
  for (const file of ['snmp', 'netstat'] as const) {
    const sections = plan.snmp[file].map(({ section, columns }) => ({ section, columns: wanted(columns) })).filter((s) => s.columns.length > 0);
    if (sections.length === 0) continue;
    // Values are converted inside the parse, so that a malformed one is reported with the file's path.
    parsed(`${netDir}/${file}`, (text) => {
      const snmp = parseSnmp(text, snmpHeader);
      for (const { section, columns } of sections) {
        const values = snmp.get(section);
        if (!values) continue;
        for (const { metric, column } of columns) {
          const value = snmpValue(values, column);
          // PCP reads these with strtoull, so -1 (Tcp MaxConn) is 2^64 - 1.
          if (value !== undefined) out.put(metric, BigInt.asUintN(64, value));
        }
      }
    });
  }
  for (const { file, states } of plan.tcp) {
    const counted = wanted(states);
    if (counted.length === 0) continue;
    const counts = tcpStates.read(`${netDir}/${file}`, ctx);
    if (!counts) continue;
    for (const { metric, state } of counted) out.put(metric, counts[state]);
  }
}

export function networkCollector(roots: Roots): Collector {
  const files = new ProcFiles(roots.procfs);
  const linkFiles = new ProcFiles(roots.sysfs);
  return {
    name: 'network',
    family: networkFamily,
    collect(out, ctx) {
      files.sweep();
      linkFiles.sweep();
      collectNetwork(`${roots.procfs}/net`, out, ctx, { classNetDir: `${roots.sysfs}/class/net`, files, linkFiles });
    },
  };
}

function putLinkState(out: SampleWriter, name: string, dir: string, ctx: CollectContext, files?: ProcFiles): void {
  const read = (file: string): string | undefined => (files ? files.read(`${dir}/${file}`, ctx) : readOptional(`${dir}/${file}`, ctx));
  const link = parseLinkState({
    flags: read('flags'), operstate: read('operstate'), mtu: read('mtu'), speed: read('speed'), duplex: read('duplex'),
  });
  const put = (leaf: string, value: number | bigint): void => out.put(`network.interface.${leaf}`, value, name);
  if (link.up !== undefined) put('up', Number(link.up));
  if (link.running !== undefined) put('running', Number(link.running));
  if (link.mtu !== undefined) put('mtu', link.mtu);
  if (link.duplex !== undefined) put('duplex', link.duplex);
  if (link.speed !== undefined) {
    // Mbit/s → PCP's Mbyte/s (2^20 bytes) and byte/s.
    put('speed', (link.speed * 1_000_000) / 8 / 1024 / 1024);
    put('baudrate', (BigInt(link.speed) * 1_000_000n) / 8n);
  }
}
