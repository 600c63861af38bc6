/*  =========================================================================
    ledger_rules - rule and settings handlers (ListRules, PutRule,
    GetSettings, PutSettings)
    =========================================================================
*/
#ifndef LEDGER_RULES_H
#define LEDGER_RULES_H

#include "ledger_core.h"

unsigned ledger_rules_list (ts_ctx *ctx,
                            const Tashan__Ledger__ListRulesRequest *r,
                            Tashan__Ledger__RuleList *rep);
unsigned ledger_rules_put (ts_ctx *ctx, const Tashan__Ledger__PutRuleRequest *r,
                           Tashan__Ledger__Rule *rep);
unsigned ledger_rules_get_settings (ts_ctx *ctx,
                                    const Tashan__Ledger__GetSettingsRequest *r,
                                    ledger_settings *rep);
unsigned ledger_rules_put_settings (ts_ctx *ctx, const ledger_settings *r,
                                    ledger_settings *rep);

#endif
