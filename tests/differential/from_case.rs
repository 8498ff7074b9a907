//! A case file read by yakkan's reader, as the model's plain data: lets the model be checked
//! against the hand-derived expectations of `tests/cases/`.

use yakkan::case::{Case, Contract, ContractOption, Fees as CaseFees, Request};

use super::case::{Environment, Fees, GCase, GContract, GOption, GRequest, Stamp};

fn fees(f: &CaseFees) -> Fees {
    Fees {
        basic: f.basic_monthly,
        per_account: f.per_account_monthly,
    }
}

fn option(o: &ContractOption) -> GOption {
    GOption {
        kind: o.kind.clone(),
        billing_start: o.billing_start,
        ended: o.ended,
        fees: o.fees.as_ref().map(fees),
    }
}

fn contract(c: &Contract) -> GContract {
    GContract {
        id: c.id.clone(),
        kind: c.kind.clone(),
        item: c.item.clone(),
        accounts: c.accounts,
        formed: c.formed,
        billing_start: c.billing_start,
        ended: c.ended,
        fees: Some(fees(&c.fees)),
        declared: c.sandbox_continuation_declared,
        options: c.options.iter().map(option).collect(),
    }
}

pub fn convert(case: &Case) -> GCase {
    let requests = case
        .requests
        .iter()
        .map(|r| match r {
            Request::NewContract { date, contract: c } => GRequest::New {
                date: *date,
                contract: contract(c),
            },
            Request::ChangeAccounts {
                date,
                contract,
                accounts,
            } => GRequest::Change {
                date: *date,
                contract: contract.clone(),
                accounts: *accounts,
            },
            Request::AddOption {
                date,
                contract,
                option,
                billing_start,
                fees: f,
            } => GRequest::Add {
                date: *date,
                contract: contract.clone(),
                option: option.clone(),
                billing_start: *billing_start,
                fees: f.as_ref().map(fees),
            },
            Request::Terminate {
                contract,
                notice_arrived,
                requested_end,
                general_terms_28,
            } => GRequest::Terminate {
                contract: contract.clone(),
                notice: *notice_arrived,
                requested_end: *requested_end,
                gt28: *general_terms_28,
            },
            Request::StopOption {
                contract,
                option,
                notice_arrived,
                requested_end,
            } => GRequest::Stop {
                contract: contract.clone(),
                option: option.clone(),
                notice: *notice_arrived,
                requested_end: *requested_end,
            },
            Request::OutageCredit {
                contract,
                attributable_to_provider,
                total,
                known_at,
                restored_at,
                claimed_on,
            } => GRequest::Outage {
                contract: contract.clone(),
                attributable: *attributable_to_provider,
                total: *total,
                known_at: Stamp::Offset(*known_at),
                restored_at: Stamp::Offset(*restored_at),
                claimed_on: *claimed_on,
            },
        })
        .collect();
    GCase {
        as_of: case.as_of,
        environment: case.customer.environment.as_ref().map(|e| Environment {
            policy_decided: e.policy_decided,
            other_network: e.network.as_str() == "other",
            settings_disclosed: e.settings_disclosed,
        }),
        contracts: case.contracts.iter().map(contract).collect(),
        requests,
    }
}
