import { codeList, updateCode, type CodeUpdate } from '../domain/master-data.js';
import type { CodeListName } from '../domain/model.js';
import { isRefusal } from '../domain/registry.js';
import { code, list, type Handler } from './kit.js';

/** Account holders and the issuing body read the same lists, under /AH/ and /IB/. */
const read =
  (name: CodeListName): Handler =>
  (context) =>
    list(codeList(context.registry, name));

export const masterDataHandlers: Record<string, Handler> = {
  ahGetEnergySources: read('EnergySources'),
  ibGetEnergySources: read('EnergySources'),
  ahGetTechnologies: read('Technologies'),
  ibGetTechnologies: read('Technologies'),
  ahGetCountries: read('Countries'),
  ibGetCountries: read('Countries'),
  ahGetStandards: read('Standards'),
  ibGetStandards: read('Standards'),
  ahGetDomains: read('Domains'),
  ibGetDomains: read('Domains'),
  ahGetCancellationPurposes: read('CancellationPurposes'),
  ibGetCancellationPurposes: read('CancellationPurposes'),
  ahGetSupportTypes: read('SupportTypes'),
  ibGetSupportTypes: read('SupportTypes'),

  ibUpdateMasterDataCode: (context) => {
    const name = context.path.codeList as CodeListName;
    const result = updateCode(context.registry, name, String(context.path.code), context.body as CodeUpdate);
    return isRefusal(result) ? result : code('MASTERDATA_202', { 'Code List': name, Code: result.code });
  },
};
