import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CIC_FEATURES, CIC_IDENTIFIERS, CIC_LABEL, canonicalFeatureName, isCicFeature } from '../../src/datasets/cic-names.js';
import { sharedFile } from '../helpers/datasets.js';

// Header of the original CIC-IDS2017 MachineLearningCVE CSVs, verbatim (leading spaces and the repeated
// ' Fwd Header Length' included).
const ORIGINAL_2017 =
  ' Destination Port, Flow Duration, Total Fwd Packets, Total Backward Packets,Total Length of Fwd Packets, Total Length of Bwd Packets, Fwd Packet Length Max, Fwd Packet Length Min, Fwd Packet Length Mean, Fwd Packet Length Std,Bwd Packet Length Max, Bwd Packet Length Min, Bwd Packet Length Mean, Bwd Packet Length Std,Flow Bytes/s, Flow Packets/s, Flow IAT Mean, Flow IAT Std, Flow IAT Max, Flow IAT Min,Fwd IAT Total, Fwd IAT Mean, Fwd IAT Std, Fwd IAT Max, Fwd IAT Min,Bwd IAT Total, Bwd IAT Mean, Bwd IAT Std, Bwd IAT Max, Bwd IAT Min,Fwd PSH Flags, Bwd PSH Flags, Fwd URG Flags, Bwd URG Flags, Fwd Header Length, Bwd Header Length,Fwd Packets/s, Bwd Packets/s, Min Packet Length, Max Packet Length, Packet Length Mean, Packet Length Std, Packet Length Variance,FIN Flag Count, SYN Flag Count, RST Flag Count, PSH Flag Count, ACK Flag Count, URG Flag Count, CWE Flag Count, ECE Flag Count, Down/Up Ratio, Average Packet Size, Avg Fwd Segment Size, Avg Bwd Segment Size, Fwd Header Length,Fwd Avg Bytes/Bulk, Fwd Avg Packets/Bulk, Fwd Avg Bulk Rate, Bwd Avg Bytes/Bulk, Bwd Avg Packets/Bulk,Bwd Avg Bulk Rate,Subflow Fwd Packets, Subflow Fwd Bytes, Subflow Bwd Packets, Subflow Bwd Bytes,Init_Win_bytes_forward, Init_Win_bytes_backward, act_data_pkt_fwd, min_seg_size_forward,Active Mean, Active Std, Active Max, Active Min,Idle Mean, Idle Std, Idle Max, Idle Min, Label'.split(',');

// Header of the CSE-CIC-IDS2018 day files (e.g. Wednesday-14-02-2018_TrafficForML_CICFlowMeter.csv).
const CSE_2018 =
  'Dst Port,Protocol,Timestamp,Flow Duration,Tot Fwd Pkts,Tot Bwd Pkts,TotLen Fwd Pkts,TotLen Bwd Pkts,Fwd Pkt Len Max,Fwd Pkt Len Min,Fwd Pkt Len Mean,Fwd Pkt Len Std,Bwd Pkt Len Max,Bwd Pkt Len Min,Bwd Pkt Len Mean,Bwd Pkt Len Std,Flow Byts/s,Flow Pkts/s,Flow IAT Mean,Flow IAT Std,Flow IAT Max,Flow IAT Min,Fwd IAT Tot,Fwd IAT Mean,Fwd IAT Std,Fwd IAT Max,Fwd IAT Min,Bwd IAT Tot,Bwd IAT Mean,Bwd IAT Std,Bwd IAT Max,Bwd IAT Min,Fwd PSH Flags,Bwd PSH Flags,Fwd URG Flags,Bwd URG Flags,Fwd Header Len,Bwd Header Len,Fwd Pkts/s,Bwd Pkts/s,Pkt Len Min,Pkt Len Max,Pkt Len Mean,Pkt Len Std,Pkt Len Var,FIN Flag Cnt,SYN Flag Cnt,RST Flag Cnt,PSH Flag Cnt,ACK Flag Cnt,URG Flag Cnt,CWE Flag Count,ECE Flag Cnt,Down/Up Ratio,Pkt Size Avg,Fwd Seg Size Avg,Bwd Seg Size Avg,Fwd Byts/b Avg,Fwd Pkts/b Avg,Fwd Blk Rate Avg,Bwd Byts/b Avg,Bwd Pkts/b Avg,Bwd Blk Rate Avg,Subflow Fwd Pkts,Subflow Fwd Byts,Subflow Bwd Pkts,Subflow Bwd Byts,Init Fwd Win Byts,Init Bwd Win Byts,Fwd Act Data Pkts,Fwd Seg Size Min,Active Mean,Active Std,Active Max,Active Min,Idle Mean,Idle Std,Idle Max,Idle Min,Label'.split(',');

describe('CIC feature names', () => {
  it('lists 83 distinct canonical features, each its own canonical name', () => {
    assert.equal(CIC_FEATURES.length, 83);
    assert.equal(new Set(CIC_FEATURES).size, 83);
    for (const f of CIC_FEATURES) assert.equal(canonicalFeatureName(f), f);
    for (const f of [...CIC_IDENTIFIERS, CIC_LABEL]) assert.equal(canonicalFeatureName(f), f);
  });

  it('maps the original MachineLearningCVE layout (78 features) onto the canonical list', () => {
    assert.equal(ORIGINAL_2017.length, 79);
    const mapped = ORIGINAL_2017.map(canonicalFeatureName);
    assert.equal(mapped[78], 'Label');
    assert.equal(mapped[0], 'Dst Port');
    assert.equal(mapped[2], 'Total Fwd Packet');
    assert.equal(mapped[ORIGINAL_2017.indexOf(' CWE Flag Count')], 'CWR Flag Count');
    assert.equal(mapped[ORIGINAL_2017.indexOf(' act_data_pkt_fwd')], 'Fwd Act Data Pkts');
    for (const name of mapped.slice(0, 78)) assert.ok(CIC_FEATURES.includes(name), `${name} not canonical`);
    // 77 distinct features: the 78th column repeats Fwd Header Length.
    assert.equal(new Set(mapped.slice(0, 78)).size, 77);
    assert.equal(canonicalFeatureName(' Fwd Header Length.1'), 'Fwd Header Length');
    const missing = CIC_FEATURES.filter((f) => !mapped.includes(f));
    assert.deepEqual(missing, ['Protocol', 'Fwd RST Flags', 'Bwd RST Flags', 'ICMP Code', 'ICMP Type', 'Total TCP Flow Time']);
  });

  it('maps the CSE-CIC-IDS2018 abbreviations onto the canonical list', () => {
    const mapped = CSE_2018.map(canonicalFeatureName);
    const features = mapped.filter((n) => n !== 'Timestamp' && n !== 'Label');
    assert.equal(features.length, 78);
    for (const name of features) assert.ok(isCicFeature(name), `${name} not canonical`);
    assert.equal(new Set(features).size, 78);
    assert.equal(canonicalFeatureName('Init Fwd Win Byts'), 'FWD Init Win Bytes');
    assert.equal(canonicalFeatureName('Flow Byts/s'), 'Flow Bytes/s');
    assert.equal(canonicalFeatureName('TotLen Fwd Pkts'), 'Total Length of Fwd Packet');
    assert.equal(canonicalFeatureName('Pkt Size Avg'), 'Average Packet Size');
  });

  it('maps the Python cicflowmeter snake_case names', () => {
    assert.equal(canonicalFeatureName('tot_fwd_pkts'), 'Total Fwd Packet');
    assert.equal(canonicalFeatureName('flow_byts_s'), 'Flow Bytes/s');
    assert.equal(canonicalFeatureName('fwd_header_len'), 'Fwd Header Length');
    assert.equal(canonicalFeatureName('init_bwd_win_byts'), 'Bwd Init Win Bytes');
    assert.equal(canonicalFeatureName('src_ip'), 'Src IP');
  });

  it('passes unknown names through trimmed', () => {
    assert.equal(canonicalFeatureName('  Attempted Category '), 'Attempted Category');
    assert.equal(canonicalFeatureName('id'), 'id');
  });

  it('recognises every column of the corrected 91-column layout', { skip: !sharedFile('cic-ids2017/Heartbleed_11.csv') }, () => {
    const header = readFileSync(sharedFile('cic-ids2017/Heartbleed_11.csv') as string, 'utf8').split(/\r?\n/)[0].split(',');
    assert.equal(header.length, 91);
    const features = header.filter((h) => !['id', 'Flow ID', 'Src IP', 'Src Port', 'Dst IP', 'Timestamp', 'Label', 'Attempted Category'].includes(h));
    assert.deepEqual(features.map(canonicalFeatureName), [...CIC_FEATURES]);
  });
});
