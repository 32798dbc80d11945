// Drives a devnet with near-api-js and the published JSON-RPC schemas, printing what it saw.
//
// usage: node scenario.mjs <name> <devnet state dir>
// The state dir holds manifest.json (rpc_url, accounts and their key files). The scenario
// prints one JSON object: what each step answered, for the Python test to judge. Responses go
// through @near-js/jsonrpc-client's validated functions (zod schemas from
// @near-js/jsonrpc-types); error envelopes are checked against the same package's schemas.
import fs from "node:fs";
import path from "node:path";

import * as rpc from "@near-js/jsonrpc-client";
import * as types from "@near-js/jsonrpc-types";
import {
  Account,
  JsonRpcProvider,
  KeyPair,
  KeyPairSigner,
  actions,
  baseDecode,
  createTransaction,
  getTransactionLastResult,
} from "near-api-js";

const [name, stateDir] = process.argv.slice(2);
const manifest = JSON.parse(fs.readFileSync(path.join(stateDir, "manifest.json"), "utf8"));
const url = manifest.rpc_url;
const provider = new JsonRpcProvider({ url });
const client = new rpc.NearRpcClient({ endpoint: url });
const TGAS = 10n ** 12n;
const NEAR = 10n ** 24n;

function secretOf(accountId) {
  const entry = manifest.accounts.find((a) => a.account_id === accountId);
  return JSON.parse(fs.readFileSync(entry.key_file, "utf8")).private_key;
}

function account(accountId, secret) {
  return new Account(accountId, provider, secret ?? secretOf(accountId));
}

// the key conversion @near-js/jsonrpc-client applies before validating a result
function camel(value) {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(camel);
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c) => c.toUpperCase()), camel(v)]),
  );
}

async function raw(method, params) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: "dontcare", method, params }),
  });
  return { http_status: response.status, body: await response.json() };
}

// an error envelope checked against the published response schema of its method
function envelopeProblems(schemaName, body) {
  const parsed = types[schemaName]().safeParse(camel(body));
  return parsed.success ? null : parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".")}: ${i.message}`);
}

async function caught(step) {
  try {
    return { ok: await step() };
  } catch (error) {
    return { error: { class: error?.constructor?.name, message: String(error?.message ?? error) } };
  }
}

function json(value) {
  return JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v));
}

async function viewFt(contractId, methodName, args) {
  return provider.callFunction({ contractId, method: methodName, args });
}

async function signedBase64(signerId, secret, receiverId, acts, nonceOverride) {
  const signer = KeyPairSigner.fromSecretKey(secret);
  const publicKey = await signer.getPublicKey();
  const key = await provider.viewAccessKey({ accountId: signerId, publicKey });
  const block = await provider.viewBlock({ finality: "final" });
  const nonce = nonceOverride ?? BigInt(key.nonce) + 1n;
  const tx = createTransaction(signerId, publicKey, receiverId, nonce, acts, baseDecode(block.header.hash));
  const { signedTransaction } = await signer.signTransaction(tx);
  return { signedTransaction, base64: Buffer.from(signedTransaction.encode()).toString("base64") };
}

const scenarios = {
  // accounts, keys, transfers, function calls with deposits, a refunded ft_transfer_call, tx status
  async accounts_and_tokens() {
    const out = {};
    const alice = account("alice.test.near");
    const usdc = "usdc.test.near";
    const newKey = KeyPair.fromRandom("ed25519");
    const created = await alice.createSubAccount({
      accountOrPrefix: "sub",
      publicKey: newKey.getPublicKey(),
      nearToTransfer: 2n * NEAR,
    });
    out.create_status = created.status;
    const subId = "sub.alice.test.near";
    const sub = account(subId, newKey.toString());
    out.sub_view = await provider.viewAccount({ accountId: subId });
    out.sub_state = await sub.getState();
    const fcKey = KeyPair.fromRandom("ed25519");
    await sub.addFunctionCallAccessKey({
      publicKey: fcKey.getPublicKey(),
      contractId: usdc,
      methodNames: ["ft_transfer"],
      allowance: NEAR / 4n,
    });
    out.keys_after_add = (await sub.getAccessKeyList()).keys.length;
    out.storage_after_add = (await provider.viewAccount({ accountId: subId })).storage_usage;
    await sub.deleteKey(fcKey.getPublicKey());
    out.keys_after_delete = (await sub.getAccessKeyList()).keys.length;

    const bobBefore = BigInt((await provider.viewAccount({ accountId: "bob.test.near" })).amount);
    const transfer = await alice.transfer({ receiverId: "bob.test.near", amount: NEAR / 10n });
    out.transfer_status = transfer.status;
    out.bob_gain = BigInt((await provider.viewAccount({ accountId: "bob.test.near" })).amount) - bobBefore;

    const bounds = await viewFt(usdc, "storage_balance_bounds", {});
    out.storage_bounds = bounds;
    for (const who of [subId, "bob.test.near"]) {
      const deposit = await alice.callFunction({
        contractId: usdc,
        methodName: "storage_deposit",
        args: { account_id: who },
        deposit: BigInt(bounds.min),
        gas: 30n * TGAS,
        waitUntil: "FINAL",
      });
      out[`storage_deposit_${who}`] = deposit;
    }
    const sent = await alice.callFunctionRaw({
      contractId: usdc,
      methodName: "ft_transfer",
      args: { receiver_id: subId, amount: "2500000" },
      deposit: 1n,
      gas: 30n * TGAS,
      waitUntil: "FINAL",
    });
    out.ft_transfer_status = sent.status;
    out.sub_ft = await viewFt(usdc, "ft_balance_of", { account_id: subId });

    const aliceFtBefore = await viewFt(usdc, "ft_balance_of", { account_id: "alice.test.near" });
    const call = await alice.callFunctionRaw({
      contractId: usdc,
      methodName: "ft_transfer_call",
      args: { receiver_id: "bob.test.near", amount: "1000000", msg: "" },
      deposit: 1n,
      gas: 100n * TGAS,
      waitUntil: "FINAL",
    });
    out.transfer_call_result = getTransactionLastResult(call);
    out.transfer_call_receipts = call.receipts_outcome.length;
    out.transfer_call_failures = call.receipts_outcome
      .map((r) => r.outcome.status)
      .filter((s) => s.Failure !== undefined);
    out.alice_ft_before = aliceFtBefore;
    out.alice_ft_after = await viewFt(usdc, "ft_balance_of", { account_id: "alice.test.near" });
    out.bob_ft_after = await viewFt(usdc, "ft_balance_of", { account_id: "bob.test.near" });

    const txHash = call.transaction.hash;
    const status = await provider.viewTransactionStatus({ txHash, accountId: "alice.test.near", waitUntil: "FINAL" });
    out.status_matches = json(status.status) === json(call.status);
    const withReceipts = await provider.viewTransactionStatusWithReceipts({
      txHash,
      accountId: "alice.test.near",
      waitUntil: "FINAL",
    });
    out.status_receipts = withReceipts.receipts.length;
    const receiptId = call.receipts_outcome[0].id;
    out.receipt = await provider.viewTransactionReceipt(receiptId);
    out.receipt_id = receiptId;
    out.validated_tx = await caught(() =>
      rpc.tx(client, { txHash, senderAccountId: "alice.test.near", waitUntil: "FINAL" }),
    );
    out.validated_tx_status = await caught(() =>
      rpc.experimentalTxStatus(client, { txHash, senderAccountId: "alice.test.near", waitUntil: "FINAL" }),
    );
    out.validated_receipt = await caught(() => rpc.experimentalReceipt(client, { receiptId }));
    out.balance = await alice.getBalance();
    return out;
  },

  // nearcore's refusals: NonceTooLarge, LackBalanceForState, view errors, strict parameters
  async errors() {
    const out = {};
    const aliceSecret = secretOf("alice.test.near");
    const alice = account("alice.test.near");
    const transferOne = [actions.transfer(1n)];

    const far = await signedBase64("alice.test.near", aliceSecret, "bob.test.near", transferOne, 10n ** 15n);
    out.nonce_too_large_client = await caught(() => provider.sendTransaction(far.signedTransaction));
    out.nonce_too_large = await raw("broadcast_tx_commit", [far.base64]);
    out.nonce_too_large_schema = envelopeProblems(
      "JsonRpcResponseFor_RpcTransactionResponseAnd_RpcErrorSchema",
      out.nonce_too_large.body,
    );

    const poorKey = KeyPair.fromRandom("ed25519");
    await alice.createSubAccount({
      accountOrPrefix: "poor",
      publicKey: poorKey.getPublicKey(),
      nearToTransfer: NEAR / 1000n,
    });
    const poor = account("poor.alice.test.near", poorKey.toString());
    out.poor_keys_added = 0;
    for (let i = 0; i < 12; i++) {
      const added = await caught(() => poor.addFullAccessKey(KeyPair.fromRandom("ed25519").getPublicKey()));
      if (added.error) {
        out.poor_refusal = added.error;
        break;
      }
      out.poor_keys_added += 1;
    }
    out.poor_view = await provider.viewAccount({ accountId: "poor.alice.test.near" });

    out.no_code_client = await caught(() => viewFt("bob.test.near", "anything", {}));
    out.no_code = await raw("query", {
      request_type: "call_function",
      account_id: "bob.test.near",
      method_name: "anything",
      args_base64: "",
      finality: "final",
    });
    out.panic = await raw("query", {
      request_type: "call_function",
      account_id: "usdc.test.near",
      method_name: "ft_balance_of",
      args_base64: Buffer.from("{}").toString("base64"),
      finality: "final",
    });
    out.view_schema = [out.no_code.body, out.panic.body].map((b) =>
      envelopeProblems("JsonRpcResponseFor_RpcQueryResponseAnd_RpcErrorSchema", b),
    );

    const sent = await alice.transfer({ receiverId: "bob.test.near", amount: 1n });
    const hash = sent.transaction.hash;
    out.tx_without_sender = await raw("tx", { tx_hash: hash });
    out.tx_positional_hash_only = await raw("tx", [hash]);
    out.tx_with_sender = await raw("tx", { tx_hash: hash, sender_account_id: "alice.test.near" });
    const next = await signedBase64("alice.test.near", aliceSecret, "bob.test.near", transferOne);
    out.send_tx_positional_wait = await raw("send_tx", [next.base64, "FINAL"]);
    out.send_tx_schema = envelopeProblems(
      "JsonRpcResponseFor_RpcTransactionResponseAnd_RpcErrorSchema",
      out.send_tx_positional_wait.body,
    );
    return out;
  },

  // NEP-366: alice signs a delegate action, bob relays it and pays for it
  async meta_transaction() {
    const alice = account("alice.test.near");
    const bob = account("bob.test.near");
    const balance = async (accountId) => BigInt((await provider.viewAccount({ accountId })).amount);
    const before = { alice: await balance("alice.test.near"), carol: await balance("carol.test.near") };
    const { signedDelegate } = await alice.createSignedMetaTransaction({
      receiverId: "carol.test.near",
      actions: [actions.transfer(NEAR)],
      blockHeightTtl: 100,
    });
    const relayed = await bob.relayMetaTransaction(signedDelegate);
    // relayMetaTransaction returns at EXECUTED_OPTIMISTIC; the inner transfer runs a block later
    const final = await raw("tx", {
      tx_hash: relayed.transaction.hash,
      sender_account_id: "bob.test.near",
      wait_until: "FINAL",
    });
    const replay = await caught(() => bob.relayMetaTransaction(signedDelegate));
    // valid up to the head only: its receipt runs in a later block
    const late = await alice.createSignedMetaTransaction({
      receiverId: "carol.test.near",
      actions: [actions.transfer(NEAR)],
      blockHeightTtl: 0,
    });
    const expired = await caught(() => bob.relayMetaTransaction(late.signedDelegate));
    return {
      status: relayed.status,
      receipts: final.body.result.receipts_outcome.length,
      receipt_blocks: final.body.result.receipts_outcome.map((r) => r.block_hash),
      alice_change: (await balance("alice.test.near")) - before.alice,
      carol_change: (await balance("carol.test.near")) - before.carol,
      replay,
      expired,
      carol_after_expired: (await balance("carol.test.near")) - before.carol,
    };
  },

  // methods and fields other clients read: every answer validated by the published schemas
  async surface() {
    const out = {};
    const alice = account("alice.test.near");
    const sent = await alice.transfer({ receiverId: "bob.test.near", amount: 1n });
    const height = (await provider.viewBlock({ finality: "final" })).header.height;
    const txBlock = await provider.viewBlock({ blockId: sent.transaction_outcome.block_hash });
    // bob is credited by the transfer's receipt, which runs in a later block
    const receiptBlock = await provider.viewBlock({ blockId: sent.receipts_outcome[0].block_hash });
    out.heights = { tx: txBlock.header.height, receipt: receiptBlock.header.height };
    const checks = {
      status: () => rpc.status(client),
      block_final: () => rpc.block(client, { finality: "final" }),
      block_by_height: () => rpc.block(client, { blockId: height }),
      chunk_by_block: () => rpc.chunk(client, { blockId: txBlock.header.height, shardId: 0 }),
      chunk_by_hash: () => rpc.chunk(client, { chunkId: txBlock.chunks[0].chunk_hash }),
      gas_price: () => rpc.gasPrice(client, { blockId: null }),
      protocol_config: () => rpc.experimentalProtocolConfig(client, { finality: "final" }),
      validators: () => rpc.validators(client, "latest"),
      health: () => rpc.health(client),
      account_changes: () =>
        rpc.experimentalChanges(client, {
          changesType: "account_changes",
          accountIds: ["alice.test.near", "bob.test.near"],
          blockId: txBlock.header.hash,
        }),
      receipt_account_changes: () =>
        rpc.experimentalChanges(client, {
          changesType: "account_changes",
          accountIds: ["alice.test.near", "bob.test.near"],
          blockId: receiptBlock.header.hash,
        }),
      access_key_changes: () =>
        rpc.experimentalChanges(client, {
          changesType: "all_access_key_changes",
          accountIds: ["alice.test.near"],
          blockId: txBlock.header.hash,
        }),
      changes_in_block: () => rpc.experimentalChangesInBlock(client, { blockId: txBlock.header.hash }),
      view_account: () =>
        rpc.query(client, { requestType: "view_account", accountId: "alice.test.near", finality: "final" }),
    };
    for (const [label, check] of Object.entries(checks)) {
      out[label] = await caught(check);
    }
    out.chunk_tx_hashes = (await provider.viewChunk([txBlock.header.height, 0])).transactions.map(
      (t) => t.hash,
    );
    out.tx_hash = sent.transaction.hash;
    out.tx_nonce = sent.transaction.nonce;
    out.key_changes_client = await provider.accessKeyChanges(["alice.test.near"], {
      blockId: txBlock.header.hash,
    });
    out.state = await alice.getState();
    out.balance = await alice.getBalance();
    out.validators_client = await provider.viewValidators();
    return out;
  },
};

const run = scenarios[name];
if (!run) {
  console.error(`unknown scenario ${name}; one of ${Object.keys(scenarios).join(", ")}`);
  process.exit(2);
}
console.log(json(await run()));
